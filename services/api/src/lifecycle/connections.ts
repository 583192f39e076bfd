// Per-socket request state of the public server, so shutdown never resets a request.
// Node's closeIdleConnections() (called by server.close() since Node 19, and by Fastify's
// forceCloseConnections 'idle') destroys every socket without a request being parsed, which includes
// sockets whose request is still in the kernel buffer or half received: under load that reset
// hundreds of accepted requests. Here a socket is ended only when it has served at least one request
// and has none in flight; a socket that has not sent its first request yet gets a grace period to send
// it (and be answered 503 SHUTTING_DOWN), and is then ended with a FIN, never destroyed.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
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
  readonly #inFlight = new Set<ServerResponse>();
  #closing = false;
  #lastConnectionAt = 0;

  constructor(server: Server, opts: { freshSocketGraceMs: number }) {
    this.#freshSocketGraceMs = opts.freshSocketGraceMs;
    server.on('connection', (socket: Socket) => {
      this.#lastConnectionAt = Date.now();
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
    return this.#inFlight.size;
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  /**
   * Resolves once every request in flight now has been answered. Requests arriving later are not
   * waited for (during the drain they are quick 503s), so a steady stream cannot hold shutdown up.
   */
  async settled(): Promise<void> {
    await Promise.all([...this.#inFlight].map((response) => once(response, 'close')));
  }

  /**
   * Resolves once no connection has been accepted for `quietMs`, or after `maxWaitMs`. Closing the
   * listener resets the connections still in its accept queue; when clients have stopped opening
   * connections that queue is empty.
   */
  async quiet(quietMs: number, maxWaitMs: number): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      // Timers run before the poll phase: after the event loop stalled, the connections that came
      // meanwhile are still in the accept queue. Look only after one poll phase has accepted them.
      await new Promise((resolve) => setImmediate(resolve));
      const quietFor = Date.now() - this.#lastConnectionAt;
      const left = deadline - Date.now();
      if (quietFor >= quietMs || left <= 0) return;
      await sleep(Math.min(quietMs - quietFor, left));
    }
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
    this.#inFlight.add(response);
    response.once('close', () => {
      state.inFlight--;
      state.served++;
      this.#inFlight.delete(response);
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
