import { Controller, Get } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { PublicRoute } from '../common/public-route';

@Controller()
export class HealthController {
  constructor(@InjectEntityManager() private readonly db: EntityManager) {}

  /** Liveness plus a database round trip; no token or api-version needed. */
  @Get('healthz')
  @PublicRoute()
  async health() {
    await this.db.query('SELECT 1');
    return { status: 'ok' };
  }
}
