/** Malformed protobuf bytes (truncated, bad wire type, runaway varint). */
export class WireError extends Error {}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

/** A bounds-checked reader of the protobuf wire format (varints, fixed 32/64-bit and length-delimited fields). */
export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads the next field key. */
  key(): { no: number; wire: number } {
    const key = this.varint();
    const no = Number(key >> 3n);
    if (no < 1 || no > 0x1fffffff) throw new WireError(`invalid field number ${no}`);
    return { no, wire: Number(key & 7n) };
  }

  /** An unsigned varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new WireError('varint longer than 10 bytes');
  }

  fixed(bytes: 4 | 8): Buffer {
    return this.take(bytes);
  }

  /** A length-delimited payload. */
  bytes(): Buffer {
    const len = this.varint();
    if (len > BigInt(this.end - this.pos)) throw new WireError('length-delimited field runs past the end of its message');
    return this.take(Number(len));
  }

  /** Skips a field this schema does not know (newer upstream fields are ignored, as Go's decoder does). */
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.take(8);
    else if (wire === WIRE_BYTES) this.bytes();
    else if (wire === WIRE_FIXED32) this.take(4);
    else throw new WireError(`unsupported wire type ${wire}`);
  }

  private take(n: number): Buffer {
    if (this.pos + n > this.end) throw new WireError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
