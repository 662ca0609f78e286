import { isGuid } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { PgChannelListener, ServicePrincipalEntity } from '@cerulean/domain';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';

/** Postgres announces every deleted principal here (migration PrincipalsNotify); '' means all may be gone. */
export const PRINCIPALS_CHANNEL = 'cerulean_principals';
const MAX_CACHED = 10_000;

/**
 * Whether the principal a token names still exists, cheaply: an answer from memory on the hot path.
 * Existing principals are remembered only while the change feed is listening (a deletion anywhere drops
 * them at once); deleted ones are remembered for good (object ids are never reused). Without the feed,
 * every question reads Postgres.
 */
export class PrincipalDirectory {
  private readonly live = new Set<string>();
  private readonly gone = new Set<string>();
  /** Bumped by every invalidation: a read that started before one must not fill the cache. */
  private generation = 0;
  private listening = false;

  constructor(private readonly load: (objectId: string) => Promise<boolean>) {}

  /** A boolean when known; a promise when Postgres has to be asked. */
  exists(objectId: string): boolean | Promise<boolean> {
    const id = objectId.toLowerCase();
    if (!isGuid(id) || this.gone.has(id)) return false;
    if (this.listening && this.live.has(id)) return true;
    return this.read(id);
  }

  /** The principal is gone (undefined: any may be). */
  deleted(objectId?: string): void {
    this.generation++;
    if (objectId === undefined || objectId === '') {
      this.live.clear();
      return;
    }
    const id = objectId.toLowerCase();
    this.live.delete(id);
    this.remember(this.gone, id);
  }

  listeningChanged(listening: boolean): void {
    this.deleted();
    this.listening = listening;
  }

  private async read(id: string): Promise<boolean> {
    const generation = this.generation;
    const found = await this.load(id);
    if (!found) this.remember(this.gone, id);
    else if (this.listening && generation === this.generation && !this.gone.has(id)) this.remember(this.live, id);
    return found && !this.gone.has(id);
  }

  private remember(set: Set<string>, id: string): void {
    if (set.size >= MAX_CACHED && !set.has(id)) set.delete(set.values().next().value as string);
    set.add(id);
  }
}

/** The PrincipalDirectory of this API process, fed by LISTEN on PRINCIPALS_CHANNEL. */
@Injectable()
export class PrincipalLiveness implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(PrincipalLiveness.name);
  private readonly directory: PrincipalDirectory;
  private readonly listener: PgChannelListener;
  private listening = false;

  constructor(@InjectEntityManager() db: EntityManager, env: Env) {
    this.directory = new PrincipalDirectory((id) => db.exists(ServicePrincipalEntity, { where: { id } }));
    this.listener = new PgChannelListener(env.DATABASE_URL, PRINCIPALS_CHANNEL, {
      onMessage: (id) => this.directory.deleted(id),
      onListening: () => {
        this.listening = true;
        this.directory.listeningChanged(true);
      },
      onLost: (err) => {
        if (this.listening) this.log.warn(`principal deletion feed lost (${String(err)}): principals are read from Postgres until it is back`);
        this.listening = false;
        this.directory.listeningChanged(false);
      },
    });
  }

  onModuleInit(): void {
    this.listener.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.listener.stop();
  }

  exists(objectId: string): boolean | Promise<boolean> {
    return this.directory.exists(objectId);
  }

  /** Deleted through this process: refused here at once, before the notification comes back. */
  deleted(objectId: string): void {
    this.directory.deleted(objectId);
  }
}
