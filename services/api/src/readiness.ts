// Readiness: not ready until the first full warm-up, then ready for good
// (a later database blip must not pull every replica out of the load balancer at once), and not
// ready again from the moment shutdown starts.
export type ReadyStatus = 'warming' | 'ready' | 'shutting-down';

export class Readiness {
  #warm = false;
  #shuttingDown = false;
  #draining = false;

  get status(): ReadyStatus {
    if (this.#shuttingDown) return 'shutting-down';
    return this.#warm ? 'ready' : 'warming';
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Once the shutdown delay is over: new requests are answered 503 SHUTTING_DOWN. */
  get draining(): boolean {
    return this.#draining;
  }

  markWarm(): void {
    this.#warm = true;
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  beginDrain(): void {
    this.#shuttingDown = true;
    this.#draining = true;
  }
}
