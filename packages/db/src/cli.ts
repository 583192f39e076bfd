// `pnpm db:migrate` and `pnpm db:seed --members N --articles N --participations N`, against DATABASE_URL.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, databaseVars, readEnv, redactUrl } from '@mokakbab/config';
import { migrate } from './migrate.js';
import { seed, SEED_PASSWORD_COST, SHARED_SEED_PASSWORD } from './seed.js';

const USAGE = `usage:
  db migrate
  db seed --members N --articles N --participations N [--password-cost N] [--shared-password]
    (default cost ${SEED_PASSWORD_COST}; --shared-password: one hash for every member, password "${SHARED_SEED_PASSWORD}", seconds for 100k)
Both read DATABASE_URL (mysql://user:password@host:port/database).`;

function count(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError([`--${name} ${JSON.stringify(raw)} is not a whole number`]);
  return Number(raw);
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      members: { type: 'string' },
      articles: { type: 'string' },
      participations: { type: 'string' },
      'password-cost': { type: 'string' },
      'shared-password': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || (command !== 'migrate' && command !== 'seed')) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const { databaseUrl, databaseCa } = readEnv(databaseVars);
  if (command === 'migrate') {
    const result = await migrate(databaseUrl, 'max', databaseCa);
    console.log(
      `${redactUrl(databaseUrl)}: schema version ${result.version}` +
        (result.applied.length ? ` (applied ${result.applied.map((f) => basename(f)).join(', ')})` : ' (up to date)'),
    );
    return;
  }
  const result = await seed(
    databaseUrl,
    {
      members: count('members', values.members, 1_000),
      articles: count('articles', values.articles, 1_000),
      participations: count('participations', values.participations, 2_000),
      passwordCost: count('password-cost', values['password-cost'], SEED_PASSWORD_COST),
      sharedPassword: values['shared-password'] === true,
    },
    databaseCa,
  );
  console.log(
    `seeded in ${(result.ms / 1000).toFixed(1)} s: ${result.members} members, ${result.articles} articles,` +
      ` ${result.participations} participations in total`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
