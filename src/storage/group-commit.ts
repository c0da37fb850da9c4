/**
 * Group commit: requests that arrive while earlier ones are being written share one statement and
 * one commit. Each database round trip (and each commit's log write) costs system calls that
 * dominate a small write, so under load N requests cost little more than one; when idle a request
 * goes out on the next tick, alone.
 *
 * `write` gets up to `maxBatch` items and returns one result per item, in order. At most
 * `maxInFlight` batches run at once (1 on SQLite, which has one connection). When a batch fails
 * (a deadlock, one bad item), each of its items is retried alone, so one item's error is never
 * another's.
 */
export class GroupCommitter<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly opts: { maxBatch: number; maxInFlight: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // One tick lets the requests parsed in the same I/O turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.opts.maxInFlight && this.queue.length) void this.flush(this.queue.splice(0, this.opts.maxBatch));
    });
  }

  private async flush(batch: typeof this.queue): Promise<void> {
    this.inFlight++;
    try {
      const out = await this.write(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]!));
    } catch (e) {
      if (batch.length === 1) batch[0]!.reject(e);
      else
        for (const b of batch) {
          await this.write([b.item]).then(
            ([o]) => b.resolve(o!),
            (err: unknown) => b.reject(err),
          );
        }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
