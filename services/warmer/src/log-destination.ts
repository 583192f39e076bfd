// The logger's stdout, which must never hold the process. pino's default destination (sonic-boom)
// writes through the thread pool and flushes synchronously at exit: with a stdout pipe nobody
// drains, the write blocks a pool thread (which exit joins) or spins on EAGAIN, and the warmer
// ignored SIGTERM, stuck in a futex. process.stdout on a pipe is a non-blocking libuv stream whose
// unsent data is simply dropped at exit; this bounds what it may buffer and survives a closed pipe.
import type { Writable } from 'node:stream';

export class StdoutDestination {
  readonly #stream: Writable;
  readonly #maxBufferedBytes: number;
  #broken = false;

  constructor(stream: Writable = process.stdout, maxBufferedBytes = 1024 * 1024) {
    this.#stream = stream;
    this.#maxBufferedBytes = maxBufferedBytes;
    // EPIPE and friends: nobody reads any more. Without a listener the error would crash the process.
    stream.on('error', () => {
      this.#broken = true;
    });
  }

  /** pino's destination contract: one serialized line per call; dropped when the reader fell behind or is gone. */
  write(line: string): boolean {
    if (this.#broken || this.#stream.writableLength > this.#maxBufferedBytes) return false;
    this.#stream.write(line);
    return true;
  }

  /** Waits until everything buffered is handed to the OS; false when `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#broken) return Promise.resolve(false);
    if (this.#stream.writableLength === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#stream.off('drain', onDrain);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs).unref();
      this.#stream.on('drain', onDrain);
    });
  }
}
