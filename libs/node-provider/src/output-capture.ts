/**
 * Keeps a command's output within `maxBytes`: the first half and the last half of what it wrote, with a
 * marker where the middle was cut. The start shows what the command did, the end how it ended; memory
 * stays bounded however much it prints.
 */
export class OutputCapture {
  private readonly headMax: number;
  private readonly tailMax: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(maxBytes: number) {
    this.headMax = Math.ceil(maxBytes / 2);
    this.tailMax = Math.max(0, maxBytes - this.headMax);
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.headBytes < this.headMax) {
      const take = Math.min(rest.length, this.headMax - this.headBytes);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes > this.tailMax) {
      const first = this.tail[0];
      const excess = this.tailBytes - this.tailMax;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Bytes cut from the middle (0 when everything was kept). */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** The kept output as UTF-8 (a character split by the cut shows as U+FFFD). */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    return this.dropped > 0 ? `${head}\n[... ${this.dropped} bytes of output cut ...]\n${tail}` : head + tail;
  }
}
