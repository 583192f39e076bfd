// Per-socket request state of the public server, so shutdown never resets a request (issue 8, F5).
// Node's closeIdleConnections() (called by server.close() since Node 19, and by Fastify's
// forceCloseConnections 'idle') destroys every socket without a request being parsed, which includes
// sockets whose request is still in the kernel buffer or half received: under load that reset
// hundreds of accepted requests. Here a socket is ended only when it has served at least one request
// and has none in flight; a socket that has not sent its first request yet gets a grace period to send
// it (and be answered 503 SHUTTING_DOWN), and is then ended with a FIN, never destroyed.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface SocketState {
  inFlight: number;
  served: number;
  graceTimer: NodeJS.Timeout | undefined;
}

export class ConnectionTracker {
  readonly #sockets = new Map<Socket, SocketState>();
  readonly #freshSocketGraceMs: number;
  #inFlight = 0;
  #closing = false;
  #idleWaiters: Array<() => void> = [];

  constructor(server: Server, opts: { freshSocketGraceMs: number }) {
    this.#freshSocketGraceMs = opts.freshSocketGraceMs;
    server.on('connection', (socket: Socket) => {
      this.#sockets.set(socket, { inFlight: 0, served: 0, graceTimer: undefined });
      socket.once('close', () => {
        const state = this.#sockets.get(socket);
        if (state?.graceTimer) clearTimeout(state.graceTimer);
        this.#sockets.delete(socket);
      });
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.#track(request, response));
    // Replaces Node's reaping of "idle" sockets (see above) with endIdle().
    server.closeIdleConnections = () => this.#endIdle();
  }

  /** Requests received and not yet answered, on every socket. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  /** Resolves once no request is in flight (at once when none is). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #track(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    const state = this.#sockets.get(socket);
    if (state === undefined) return;
    if (state.graceTimer) {
      clearTimeout(state.graceTimer);
      state.graceTimer = undefined;
    }
    state.inFlight++;
    this.#inFlight++;
    response.once('close', () => {
      state.inFlight--;
      state.served++;
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      // The response carried `Connection: close` (the readiness plugin), so Node ends the socket
      // itself; a socket it kept (a pipelined request already read) is ended once that one is answered.
      if (this.#closing && state.inFlight === 0) this.#endLater(socket, state);
    });
  }

  #endIdle(): void {
    this.#closing = true;
    for (const [socket, state] of this.#sockets) {
      if (state.inFlight === 0) this.#endLater(socket, state);
    }
  }

  #endLater(socket: Socket, state: SocketState): void {
    if (state.served > 0) {
      socket.end();
      return;
    }
    // No request seen yet: it may be in the kernel buffer right now. Give it time to arrive.
    state.graceTimer ??= setTimeout(() => socket.end(), this.#freshSocketGraceMs);
    state.graceTimer.unref();
  }
}
