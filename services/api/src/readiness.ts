// Readiness as DESIGN.md defines it: not ready until the first full warm-up, then ready for good
// (a later database blip must not pull every replica out of the load balancer at once), and not
// ready again from the moment shutdown starts.
export type ReadyStatus = 'warming' | 'ready' | 'shutting-down';

export class Readiness {
  #warm = false;
  #shuttingDown = false;

  get status(): ReadyStatus {
    if (this.#shuttingDown) return 'shutting-down';
    return this.#warm ? 'ready' : 'warming';
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  markWarm(): void {
    this.#warm = true;
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }
}
