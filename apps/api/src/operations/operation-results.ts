import { ArmError } from '@cerulean/arm';
import { OperationEntity, OperationKind } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';

/** What a `Location` (result) URL answers once the operation has ended (R10.2/R11.1). */
export type OperationResult = { status: 200; body?: unknown } | { status: 204 } | { status: number; error: ArmError };

/** The result of a succeeded operation of one kind, read by the feature that owns the resource. */
export type OperationResultReader = (op: OperationEntity) => Promise<OperationResult>;

/**
 * The features whose operations answer with a resource (clusters and pools, deployments and what-if, command
 * results) register a reader for their kinds here when their module starts; OperationsService asks it.
 */
@Injectable()
export class OperationResults {
  private readonly readers = new Map<OperationKind, OperationResultReader>();

  register(kinds: readonly OperationKind[], reader: OperationResultReader): void {
    for (const kind of kinds) {
      if (this.readers.has(kind)) throw new Error(`a result reader for ${kind} is already registered`);
      this.readers.set(kind, reader);
    }
  }

  readerFor(kind: OperationKind): OperationResultReader | undefined {
    return this.readers.get(kind);
  }
}
