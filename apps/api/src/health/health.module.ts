import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';

/** `GET /healthz`: liveness plus a database round trip. */
@Module({
  controllers: [HealthController],
})
export class HealthModule {}
