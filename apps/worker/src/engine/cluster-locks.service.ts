import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { TransientError } from './errors';

export type Release = () => Promise<void>;

/**
 * Executor-level mutual exclusion per cluster (or resource group), as a Postgres session advisory lock
 * held on its own connection for the whole run. A handler of a canceled operation still finishing its
 * step keeps the lock, so the delete that preempted it waits instead of racing it; a worker that dies
 * drops its connection and with it the lock.
 */
@Injectable()
export class ClusterLocks {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The lock when it is free right now, else undefined. */
  async tryAcquire(key: string): Promise<Release | undefined> {
    try {
      return await this.acquire(key, 0);
    } catch (err) {
      if (err instanceof TransientError) return undefined;
      throw err;
    }
  }

  async acquire(key: string, timeoutMs = 30_000): Promise<Release> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const rows: { ok: boolean }[] = await qr.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
        if (rows[0]?.ok) break;
        if (Date.now() > deadline) throw new TransientError(`${key} is busy with another operation's step`);
        await sleep(200);
      }
    } catch (err) {
      await qr.release();
      throw err;
    }
    return async () => {
      try {
        await qr.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      } finally {
        await qr.release();
      }
    };
  }
}
