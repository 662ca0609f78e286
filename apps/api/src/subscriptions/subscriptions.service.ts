import { ArmError, assertSubscriptionId } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { SubscriptionEntity } from '@cerulean/domain';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';

@Injectable()
export class SubscriptionsService implements OnApplicationBootstrap {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly env: Env,
  ) {}

  /** The default subscription exists from first start (idempotent; the id is configurable). */
  async onApplicationBootstrap(): Promise<void> {
    await this.db.query(
      `INSERT INTO subscriptions (id, display_name, tenant_id, state) VALUES ($1, $2, $3, 'Enabled')
       ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name, tenant_id = EXCLUDED.tenant_id`,
      [this.env.SUBSCRIPTION_ID.toLowerCase(), this.env.SUBSCRIPTION_NAME, this.env.TENANT_ID.toLowerCase()],
    );
  }

  list(): Promise<SubscriptionEntity[]> {
    return this.db.find(SubscriptionEntity, { order: { createdAt: 'ASC' } });
  }

  /** 400 for a malformed id, 404 SubscriptionNotFound for an unknown one. */
  async get(subscriptionId: string, tx: EntityManager = this.db): Promise<SubscriptionEntity> {
    assertSubscriptionId(subscriptionId);
    const sub = await tx.findOne(SubscriptionEntity, { where: { id: subscriptionId.toLowerCase() } });
    if (!sub) throw ArmError.subscriptionNotFound(subscriptionId);
    return sub;
  }

  tenantId(): string {
    return this.env.TENANT_ID.toLowerCase();
  }
}
