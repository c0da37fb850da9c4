/**
 * Gathers the lookups asked for in one turn of the event loop into one database query (`= ANY($1)`):
 * under load, one statement answers dozens of introspections, so the database parses, plans and
 * answers once per batch instead of once per request (issue 19; bench/introspection measures it).
 *
 * Freshness: a lookup only ever joins a batch that has **not been sent yet**. A batch already on its
 * way to the database may read a snapshot older than the caller's own start (a revocation committed
 * just before the caller arrived), so a caller never shares an in-flight batch's answer, even for the
 * same key: it waits for the next batch, whose statement starts after the caller did and so sees
 * every commit that preceded it. Within an unsent batch, callers for the same key share one row.
 *
 * At most `maxInFlight` batches are at the database at once; lookups arriving meanwhile gather in
 * the next batch, which is sent as soon as one returns (so a busy database means bigger batches,
 * not a longer queue of small ones).
 */
export class LookupBatcher<R> {
  private pending: Map<string, Waiter<R>[]> | undefined;
  private scheduled = false;
  private inFlight = 0;

  constructor(
    /** Rows for the keys it finds (keys not found are absent from the map). One statement. */
    private readonly fetch: (keys: string[]) => Promise<Map<string, R>>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 256,
  ) {}

  get(key: string): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      const batch = (this.pending ??= new Map());
      const waiters = batch.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else batch.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        // After the I/O callbacks of this turn: every request parsed in it joins the batch.
        setImmediate(() => {
          this.scheduled = false;
          this.send();
        });
      }
    });
  }

  /** Batches waiting to be sent or at the database (for tests and metrics). */
  get busy(): number {
    return this.inFlight + (this.pending ? 1 : 0);
  }

  private send(): void {
    while (this.pending && this.inFlight < this.maxInFlight) {
      let batch = this.pending;
      if (batch.size > this.maxBatch) {
        // The first maxBatch keys go now; the rest stay unsent (and may still gather more callers).
        const rest = new Map<string, Waiter<R>[]>();
        let i = 0;
        for (const [k, w] of batch) if (i++ >= this.maxBatch) rest.set(k, w);
        for (const k of rest.keys()) batch.delete(k);
        this.pending = rest;
      } else {
        this.pending = undefined;
      }
      this.run(batch);
    }
  }

  private run(batch: Map<string, Waiter<R>[]>): void {
    this.inFlight++;
    this.fetch([...batch.keys()])
      .then(
        (rows) => {
          for (const [key, waiters] of batch) {
            const row = rows.get(key);
            for (const w of waiters) w.resolve(row);
          }
        },
        (err: unknown) => {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.send();
      });
  }
}

interface Waiter<R> {
  resolve(row: R | undefined): void;
  reject(err: unknown): void;
}
