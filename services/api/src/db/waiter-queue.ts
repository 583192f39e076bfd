// Acquires waiting for a connection: FIFO normally, newest first under overload (pool.ts). A
// doubly linked list so that a waiter that times out leaves in O(1) and can never be handed a
// connection afterwards.
import { performance } from 'node:perf_hooks';

export interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** performance.now() when it started waiting. */
  since: number;
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
  queued: boolean;
}

export class WaiterQueue<T> {
  private head: Waiter<T> | undefined;
  private tail: Waiter<T> | undefined;
  private count = 0;

  get length(): number {
    return this.count;
  }

  /**
   * A new waiter at the back, rejected with `timeoutError()` after `timeoutMs` unless it was shifted
   * or popped (and its timer cleared) first; it leaves the queue when it times out.
   */
  wait(timeoutMs: number, timeoutError: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: undefined,
        since: performance.now(),
        prev: undefined,
        next: undefined,
        queued: false,
      };
      waiter.timer = setTimeout(() => {
        this.remove(waiter);
        reject(timeoutError());
      }, timeoutMs);
      this.push(waiter);
    });
  }

  /** Rejects every waiter with `err`, oldest first, and empties the queue. */
  rejectAll(err: Error): void {
    for (let waiter = this.shift(); waiter; waiter = this.shift()) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }

  push(waiter: Waiter<T>): void {
    waiter.prev = this.tail;
    waiter.next = undefined;
    if (this.tail) this.tail.next = waiter;
    else this.head = waiter;
    this.tail = waiter;
    waiter.queued = true;
    this.count++;
  }

  /** The oldest waiter, removed from the queue; undefined when none waits. */
  shift(): Waiter<T> | undefined {
    const waiter = this.head;
    if (waiter) this.remove(waiter);
    return waiter;
  }

  /** The oldest waiter, left in the queue. */
  peek(): Waiter<T> | undefined {
    return this.head;
  }

  /** The newest waiter, removed from the queue. */
  pop(): Waiter<T> | undefined {
    const waiter = this.tail;
    if (waiter) this.remove(waiter);
    return waiter;
  }

  remove(waiter: Waiter<T>): void {
    if (!waiter.queued) return;
    if (waiter.prev) waiter.prev.next = waiter.next;
    else this.head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else this.tail = waiter.prev;
    waiter.prev = waiter.next = undefined;
    waiter.queued = false;
    this.count--;
  }
}
