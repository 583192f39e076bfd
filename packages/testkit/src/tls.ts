// A CA and a server certificate for 127.0.0.1, made with the openssl CLI at run time (node:crypto
// verifies certificates but cannot issue them), so a test server can require verified TLS.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate as PEM: what a client gives as DATABASE_CA. */
  readonly caPem: string;
}

const VALID_DAYS = '2';

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`openssl is needed for a TLS test server: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed (exit ${result.status}):\n${result.stderr}`);
}

/** Writes ca.pem, server.pem and server.key into `dir`; the server certificate names IP 127.0.0.1 and localhost. */
export function generateTls(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  // RSA 2048, as most managed databases still serve: its handshake cost is part of a cold start.
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      VALID_DAYS,
      '-subj',
      '/CN=mokakbab test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'],
    dir,
  );
  writeFileSync(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      VALID_DAYS,
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  const caFile = join(dir, 'ca.pem');
  return {
    caFile,
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    caPem: readFileSync(caFile, 'utf8'),
  };
}
