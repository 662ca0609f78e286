import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';

/** A host file copied into the image. */
export interface HostFileEntry {
  type: 'file';
  path: string;
  mode: number;
  source: string;
  size: number;
  mtimeMs: number;
  /** Hash the content even when big (built artefacts); host binaries are hashed by size and mtime. */
  byContent?: boolean;
  /** Hash this text instead: for a file that is not the same bytes each time it is made from the same inputs. */
  hashAs?: string;
}

export type RootfsEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'file'; path: string; mode: number; content: Buffer }
  | HostFileEntry;

/** Adds every missing parent directory and orders entries parents-first, so any tar consumer is happy. */
export function withParentDirs(entries: RootfsEntry[]): RootfsEntry[] {
  const byPath = new Map<string, RootfsEntry>();
  for (const e of entries) byPath.set(e.path, e);
  for (const e of entries) {
    for (let dir = path.posix.dirname(e.path); dir !== '/' && !byPath.has(dir); dir = path.posix.dirname(dir)) {
      byPath.set(dir, { type: 'dir', path: dir, mode: 0o755 });
    }
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

// --- a minimal ustar writer: enough for a rootfs, no dependency ---

const BLOCK = 512;

/** One 512-byte ustar header. Paths are stored relative (`./usr/...`), as `tar -C dir -c .` would. */
export function tarHeader(entry: RootfsEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const rel = `.${entry.path}${entry.type === 'dir' ? '/' : ''}`;
  const { name, prefix } = splitTarPath(rel);
  header.write(name, 0, 100, 'utf8');
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  writeOctal(header, mode, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  writeOctal(header, size, 124, 12);
  writeOctal(header, 0, 136, 12);
  header.write(entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0', 156, 1, 'ascii');
  if (entry.type === 'symlink') {
    if (Buffer.byteLength(entry.target) > 100) throw new Error(`symlink target too long for ustar: ${entry.target}`);
    header.write(entry.target, 157, 100, 'utf8');
  }
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

function splitTarPath(p: string): { name: string; prefix: string } {
  if (Buffer.byteLength(p) <= 100) return { name: p, prefix: '' };
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  throw new Error(`path too long for ustar: ${p}`);
}

function writeOctal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

/** Streams entries as a tar archive, reading host files lazily (the node binary alone is ~100 MB). */
export function tarStream(entries: RootfsEntry[]): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      if (e.type !== 'file') {
        yield tarHeader(e, 0);
        continue;
      }
      if ('content' in e) {
        yield tarHeader(e, e.content.length);
        yield e.content;
        yield padding(e.content.length);
        continue;
      }
      yield tarHeader(e, e.size);
      let read = 0;
      for await (const chunk of createReadStream(e.source)) {
        const buf = chunk as Buffer;
        read += buf.length;
        if (read > e.size) break;
        yield buf;
      }
      if (read !== e.size) throw new Error(`${e.source} changed size while being archived`);
      yield padding(e.size);
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(generate(), { objectMode: false });
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}
