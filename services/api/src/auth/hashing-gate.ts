// A cap on password hashes in flight. scrypt runs on libuv's threadpool at a fixed
// cost, so a flood of sign-ins only queues there and every request, a real user's too, waits
// seconds. Beyond the cap a request gets 503 HASHING_BUSY at once, before any database work. Only
// known accounts take a slot: an unknown email costs no hash (see VerifyTimes), so a flood of
// guessed emails cannot crowd real users out; while the cap is full both get the same 503 (the
// answer does not tell which accounts exist).
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

  /** Throws 503 HASHING_BUSY (counted) when every slot is taken; takes no slot. */
  refuseIfFull(): void {
    if (this.#inFlight < this.#maxConcurrent) return;
    this.#onReject();
    throw hashingBusy();
  }

  /** Runs `work` (which hashes) if a slot is free, else throws 503 HASHING_BUSY without running it. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.refuseIfFull();
    this.#inFlight++;
    try {
      return await work();
    } finally {
      this.#inFlight--;
    }
  }
}

// Recent verifications kept to draw an unknown email's delay from; a few dozen follow load changes.
const VERIFY_SAMPLES = 64;
// A queue-inflated verify time (seconds under overload) must not make every wrong email wait that long.
const MAX_DECOY_DELAY_MS = 2_000;

/**
 * Timing equalisation without the cost (issue 8, F6): a sign-in with an unknown email answers its
 * 401 after a delay drawn from the durations of recent real verifications (a ring buffer), so it
 * takes as long as a wrong password on a known account, while spending no CPU, no hashing slot and
 * no database connection. Before any verification, the duration of one hash measured at start.
 */
export class VerifyTimes {
  readonly #samplesMs: number[] = [];
  readonly #startupMs: number;
  #next = 0;

  constructor(startupHashMs: number) {
    this.#startupMs = startupHashMs;
  }

  record(ms: number): void {
    this.#samplesMs[this.#next] = ms;
    this.#next = (this.#next + 1) % VERIFY_SAMPLES;
  }

  /** A delay distributed like a real verification, at most MAX_DECOY_DELAY_MS. */
  sampleMs(): number {
    const n = this.#samplesMs.length;
    const ms = n === 0 ? this.#startupMs : this.#samplesMs[Math.floor(Math.random() * n)]!;
    return Math.min(ms, MAX_DECOY_DELAY_MS);
  }
}
