// A cap on password hashes in flight. scrypt runs on libuv's threadpool at a fixed
// cost, so a flood of sign-ins only queues there and every request, a real user's too, waits
// seconds. Beyond the cap a request gets 503 HASHING_BUSY at once, before any database work, the
// same for known and unknown emails (the answer does not tell which accounts exist).
import { HttpError } from '../errors.js';

/** Seconds a client should wait after HASHING_BUSY: a hash takes tens of milliseconds. */
const HASHING_BUSY_RETRY_AFTER_S = 1;

export const hashingBusy = () =>
  new HttpError(503, 'HASHING_BUSY', 'Too many sign-ins at once; retry shortly.', {
    'retry-after': String(HASHING_BUSY_RETRY_AFTER_S),
  });

export class HashingGate {
  readonly #maxConcurrent: number;
  readonly #onReject: () => void;
  #inFlight = 0;

  constructor(maxConcurrent: number, onReject: () => void) {
    this.#maxConcurrent = maxConcurrent;
    this.#onReject = onReject;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs `work` (which hashes) if a slot is free, else throws 503 HASHING_BUSY without running it. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.#maxConcurrent) {
      this.#onReject();
      throw hashingBusy();
    }
    this.#inFlight++;
    try {
      return await work();
    } finally {
      this.#inFlight--;
    }
  }
}
