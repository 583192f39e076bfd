// The public port's listening sockets (LISTEN_SOCKETS). libuv accepts one connection per event-loop
// iteration per listening socket (strace: one accept4 per epoll_pwait), so once requests make each
// iteration long, a burst of new connections waits in the kernel's accept queue (the bench saw 432
// queued, draining over 4 s, counted by clients as request time). With SO_REUSEPORT the kernel spreads
// new connections over N sockets on the same port, each with its own backlog, and one iteration
// accepts up to N. Every socket hands its connections to the one HTTP server, so request tracking,
// the shutdown drain and the server timeouts see them all.
import type { FastifyInstance, FastifyListenOptions } from 'fastify';
import type { Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';

export interface PublicListenOptions {
  host: string;
  port: number;
  backlog: number;
  sockets: number;
}

/**
 * Listens on the public port with `sockets` listening sockets and returns them (the Fastify server's
 * own first). Closing the Fastify server closes them all at once and waits for their connections too.
 */
export async function listenPublic(app: FastifyInstance, opts: PublicListenOptions): Promise<readonly Server[]> {
  const { host, port, backlog, sockets } = opts;
  if (sockets === 1) {
    await app.listen({ host, port, backlog });
    return [app.server];
  }
  try {
    // FastifyListenOptions does not declare reusePort; Fastify passes the object to server.listen().
    const listenOptions: FastifyListenOptions & { reusePort: boolean } = { host, port, backlog, reusePort: true };
    await app.listen(listenOptions);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTSUP') throw err;
    app.log.warn({ listenSockets: sockets }, 'SO_REUSEPORT is not supported here: one listening socket');
    await app.listen({ host, port, backlog });
    return [app.server];
  }
  const bound = app.server.address() as AddressInfo;
  const extra: Server[] = [];
  try {
    for (let i = 1; i < sockets; i++) extra.push(await listenBeside(app.server, bound, backlog));
  } catch (err) {
    await Promise.all(extra.map(closed));
    await app.close();
    throw err;
  }
  closeTogether(app.server, extra);
  return [app.server, ...extra];
}

function listenBeside(server: HttpServer, bound: AddressInfo, backlog: number): Promise<Server> {
  // The socket options node:http gives the sockets it accepts itself (allowHalfOpen so a client's
  // FIN does not end the response; no Nagle delay on small responses).
  const listener = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => server.emit('connection', socket));
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host: bound.address, port: bound.port, backlog, reusePort: true }, () => {
      listener.off('error', reject);
      resolve(listener);
    });
  });
}

/** Resolves once the listener is closed and every connection it accepted has ended. */
function closed(listener: Server): Promise<void> {
  return new Promise((resolve) => listener.close(() => resolve()));
}

/**
 * server.close() (Fastify's close, after the drain) stops every listener in the same tick, so no
 * socket keeps accepting after the main one, and calls back once all their connections have ended.
 */
function closeTogether(server: HttpServer, extra: readonly Server[]): void {
  const closeMain = server.close.bind(server);
  server.close = (callback?: (err?: Error) => void) => {
    const others = Promise.all(extra.map(closed));
    return closeMain((err) => void others.then(() => callback?.(err)));
  };
}
