import { Module } from '@nestjs/common';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { KubernetesVersionsController } from './kubernetes-versions.controller';

/** `listKubernetesVersions` from the versions catalog. */
@Module({
  imports: [SubscriptionsModule],
  controllers: [KubernetesVersionsController],
})
export class KubernetesVersionsModule {}
