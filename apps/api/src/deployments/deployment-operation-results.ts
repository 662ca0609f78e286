import { DeploymentEntity, OperationKind, ResourceGroupRepository, WhatIfResultEntity } from '@cerulean/domain';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationResults } from '../operations/operation-results';
import { toDeployment } from './deployment.mapper';

/** The result URL of a deployment PUT answers the deployment; of a what-if, its stored WhatIfOperationResult. */
@Injectable()
export class DeploymentOperationResults implements OnModuleInit {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly groups: ResourceGroupRepository,
    private readonly results: OperationResults,
  ) {}

  onModuleInit(): void {
    this.results.register([OperationKind.DeploymentPut, OperationKind.SubscriptionDeploymentPut], async (op) => {
      const deployment = await this.db.findOne(DeploymentEntity, { where: { operationId: op.id } });
      const rg = deployment?.resourceGroupId ? await this.groups.findById(this.db, deployment.resourceGroupId) : null;
      // A subscription-scope deployment has no group.
      return deployment && (rg || !deployment.resourceGroupId) ? { status: 200, body: toDeployment(deployment, rg?.name ?? null) } : { status: 204 };
    });
    this.results.register([OperationKind.DeploymentWhatIf], async (op) => {
      const row = await this.db.findOne(WhatIfResultEntity, { where: { operationId: op.id } });
      return row ? { status: 200, body: row.result } : { status: 204 };
    });
  }
}
