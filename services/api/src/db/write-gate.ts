// The bulkhead between writes and reads in one pool: at most `limit` statements that may wait on
// row locks (writes and transactions) hold or wait for a connection at once; the rest of the pool
// stays for reads. Without it, one hot row whose lock another client holds lets its writers take
// every connection for the whole lock wait, and reads of other rows time out behind them (issue 8,
// F2b). A counting semaphore with a FIFO of deadline-bounded waiters (a waiter that times out
// leaves in O(1) and is never handed a slot afterwards).
import { performance } from 'node:perf_hooks';
import { PoolUnavailableError } from './errors.js';
import { WaiterQueue } from './waiter-queue.js';

export class WriteGate {
  readonly limit: number;
  private held = 0;
  private readonly waiters = new WaiterQueue<void>();
  private readonly queueLimit: number;
  private readonly describe: () => string;

  /** `describe` names the pool's state in a timeout's message (HikariCP's summary form). */
  constructor(limit: number, queueLimit: number, describe: () => string) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`write limit must be >= 1, got ${limit}`);
    this.limit = limit;
    this.queueLimit = queueLimit;
    this.describe = describe;
  }

  /** Writers waiting for a slot now. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Takes a free slot now, if one is free and nobody waits for one; true means leave() follows. */
  tryEnter(): boolean {
    if (this.held >= this.limit || this.waiters.length > 0) return false;
    this.held++;
    return true;
  }

  /**
   * Waits for a slot until `deadline` (performance.now() ms) at most, after tryEnter() said no;
   * a resolved wait is followed by exactly one leave().
   */
  wait(deadline: number): Promise<void> {
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) return Promise.reject(this.timeoutError());
    if (this.waiters.length >= this.queueLimit) {
      return Promise.reject(
        new PoolUnavailableError('QUEUE_FULL', `${this.waiters.length} writes already wait for a writer's connection`),
      );
    }
    return this.waiters.wait(remainingMs, () => this.timeoutError());
  }

  /** Gives the slot back: to the oldest waiter when one waits (the count stays), else to the gate. */
  leave(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
      return;
    }
    this.held--;
  }

  /** Rejects every waiter (the pool is closing or the database is known down). */
  rejectAll(err: PoolUnavailableError): void {
    this.waiters.rejectAll(err);
  }

  private timeoutError(): PoolUnavailableError {
    return new PoolUnavailableError(
      'ACQUIRE_TIMEOUT',
      `No writer's connection became available in time: writes hold ${this.held} of their ${this.limit} ` +
        `(the rest of the pool is kept for reads, DB_READ_RESERVE_PERCENT; ${this.describe()})`,
    );
  }
}
