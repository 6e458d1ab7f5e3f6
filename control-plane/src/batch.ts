/**
 * Runs many small requests as few statements: requests made while a batch is in flight wait and go together in the
 * next one (at most `maxBatch`), one batch at a time, so their order is kept. `run` answers each request of a batch,
 * in order; when it throws, every request of that batch is rejected with the error.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    // Requests made in the same tick join the first batch too.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const answers = await this.run(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(answers[i]!));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.running = false;
  }
}
