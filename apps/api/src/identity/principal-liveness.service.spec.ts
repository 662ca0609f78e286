import { PrincipalDirectory } from './principal-liveness.service';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('PrincipalDirectory', () => {
  const make = (existing: Set<string>) => {
    const reads: string[] = [];
    const sut = new PrincipalDirectory(async (id) => {
      reads.push(id);
      return existing.has(id);
    });
    return { sut, reads };
  };

  it('reads Postgres on every question while the feed is not listening', async () => {
    const { sut, reads } = make(new Set([A]));
    expect(await sut.exists(A)).toBe(true);
    expect(await sut.exists(A)).toBe(true);
    expect(reads).toEqual([A, A]);
  });

  it('answers from memory (synchronously) while listening, and drops a principal the feed reports deleted', async () => {
    const db = new Set([A]);
    const { sut, reads } = make(db);
    sut.listeningChanged(true);
    expect(await sut.exists(A)).toBe(true);
    expect(sut.exists(A)).toBe(true);
    expect(reads).toEqual([A]);
    db.delete(A);
    sut.deleted(A);
    expect(sut.exists(A)).toBe(false);
  });

  it('remembers a missing principal for good, and never asks about something that is not an object id', async () => {
    const { sut, reads } = make(new Set());
    expect(await sut.exists(B)).toBe(false);
    expect(sut.exists(B)).toBe(false);
    expect(sut.exists('not-a-guid')).toBe(false);
    expect(reads).toEqual([B]);
  });

  it('forgets every live principal when the feed is lost, or reports a truncate', async () => {
    const { sut, reads } = make(new Set([A]));
    sut.listeningChanged(true);
    await sut.exists(A);
    sut.deleted('');
    expect(await sut.exists(A)).toBe(true);
    sut.listeningChanged(false);
    expect(await sut.exists(A)).toBe(true);
    expect(reads).toEqual([A, A, A]);
  });

  it('does not cache a read that a deletion overtook', async () => {
    let release: () => void = () => undefined;
    const sut = new PrincipalDirectory(() => new Promise<boolean>((res) => (release = () => res(true))));
    sut.listeningChanged(true);
    const pending = sut.exists(A) as Promise<boolean>;
    sut.deleted(A);
    release();
    expect(await pending).toBe(false);
    expect(sut.exists(A)).toBe(false);
  });
});
