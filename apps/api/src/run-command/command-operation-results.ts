import { CommandResultEntity, OperationKind } from '@cerulean/domain';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationResults } from '../operations/operation-results';
import { toRunCommandResult } from './command-result.mapper';

/** The result URL of a run-command answers its RunCommandResult. */
@Injectable()
export class CommandOperationResults implements OnModuleInit {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly results: OperationResults,
  ) {}

  onModuleInit(): void {
    this.results.register([OperationKind.ClusterRunCommand], async (op) => {
      const row = await this.db.findOne(CommandResultEntity, { where: { id: op.id } });
      return row ? { status: 200, body: toRunCommandResult(row) } : { status: 204 };
    });
  }
}
