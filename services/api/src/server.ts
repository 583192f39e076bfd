// The process entry: load the configuration, build both instances, wire SIGTERM to the shutdown
// sequence with close-with-grace, listen, and warm the pool when WARM_ON_BOOT.
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadApiConfig, type ApiConfig } from '@mokakbab/config';
import { StartupError } from './errors.js';
import { createLogger } from './lifecycle/server-options.js';
import { shutdown } from './lifecycle/shutdown.js';
import { buildInstances, listen, warmInBackground } from './lifecycle/instances.js';

function loadConfigOrExit(): ApiConfig {
  try {
    return loadApiConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const logger = createLogger(config);

let instances;
try {
  instances = await buildInstances(config, logger);
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  // Also on stderr, in plain text: the one line an operator needs, whatever LOG_LEVEL says.
  logger.fatal({ reason: err.message }, 'cannot start');
  console.error(`Cannot start: ${err.message}`);
  process.exit(1);
}
const { app, admin } = instances;

closeWithGrace(
  { delay: config.shutdownDelayMs + config.shutdownTimeoutMs, logger: app.log },
  async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after a fatal error');
    else app.log.info({ signal }, 'signal received');
    await shutdown(app, admin, { delayMs: err ? 0 : config.shutdownDelayMs });
  },
);

await listen(instances, config);
if (config.warmOnBoot) void warmInBackground(app);
