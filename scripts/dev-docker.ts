// `pnpm dev` on a machine with Docker but no MySQL-compatible binary: MySQL 8.4 (what Compose and
// Kubernetes run) in a container, its data in .dev/docker-mysql so it survives restarts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import mysql from 'mysql2/promise';

const CONTAINER = 'mokakbab-dev-mysql';
const IMAGE = 'mysql:8.4';

export function dockerAvailable(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
}

/** Starts (or reuses) the dev container on 127.0.0.1:port; resolves with the server's root URL. */
export async function startDockerMysql(dataDir: string, port: number): Promise<{ url: URL; stop(): void }> {
  mkdirSync(dataDir, { recursive: true });
  const running = spawnSync('docker', ['inspect', '-f', '{{.State.Running}}', CONTAINER], { encoding: 'utf8' });
  if (running.stdout.trim() !== 'true') {
    spawnSync('docker', ['rm', '-f', CONTAINER], { stdio: 'ignore' });
    execFileSync(
      'docker',
      [
        'run',
        '-d',
        '--name',
        CONTAINER,
        '-p',
        `127.0.0.1:${port}:3306`,
        '-e',
        'MYSQL_ALLOW_EMPTY_PASSWORD=yes',
        '-v',
        `${dataDir}:/var/lib/mysql`,
        IMAGE,
        '--skip-name-resolve',
      ],
      { stdio: 'inherit' },
    );
  }
  const url = new URL(`mysql://root@127.0.0.1:${port}/mysql`);
  // The first start initialises the data dir, which takes a while.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const conn = await mysql.createConnection({ host: url.hostname, port, user: 'root' });
      await conn.end();
      break;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${IMAGE} in container ${CONTAINER} did not accept connections: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return { url, stop: () => void spawnSync('docker', ['stop', CONTAINER], { stdio: 'ignore' }) };
}
