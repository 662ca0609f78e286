import { isGuid } from '@cerulean/arm';
import { CommandResultEntity, CommandState, OperationEntity, OperationStatus } from '@cerulean/domain';

/** AKS RunCommandResult. */
export interface RunCommandResultBody {
  id: string;
  properties: {
    provisioningState: string;
    exitCode?: number;
    startedAt?: string;
    finishedAt?: string;
    logs?: string;
    reason?: string;
  };
}

/** Command ids look like AKS's: 32 hex digits (the uuid without hyphens). */
export const toCommandId = (uuid: string): string => uuid.replace(/-/g, '');

/** The uuid behind a command id; either spelling is accepted. Undefined when it cannot be one. */
export function parseCommandId(id: string): string | undefined {
  const hex = id.toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  if (id.includes('-') && !isGuid(id)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Whether the command has ended, and how. The worker settles the row and its operation together; an
 * operation that ended without settling the row (retries exhausted before the command started, a
 * worker crash) is read as a failed command with the operation's error as the reason.
 */
export function commandOutcome(row: CommandResultEntity, op: OperationEntity | null): CommandResultEntity | undefined {
  if (row.state === CommandState.Succeeded || row.state === CommandState.Failed) return row;
  if (!op || op.status === OperationStatus.InProgress) return undefined;
  return {
    ...row,
    state: CommandState.Failed,
    finishedAt: op.endTime ?? row.finishedAt,
    reason: op.error?.message ?? 'The command did not run.',
  };
}

/**
 * provisioningState as AKS answers it. The spec's example spells the terminal states in lower case, but az
 * (written by the AKS team) prints a finished command only when it reads `Succeeded`, and its own tests see that
 * spelling; a command not yet ended reads `Running`.
 */
const WIRE_STATE: Readonly<Record<CommandState, string>> = {
  [CommandState.Pending]: 'Running',
  [CommandState.Running]: 'Running',
  [CommandState.Succeeded]: 'Succeeded',
  [CommandState.Failed]: 'Failed',
};

/** The body of `commandResults/{id}`: 200 with it once the command ended, 202 with it while it is pending or running. */
export function toRunCommandResult(row: CommandResultEntity): RunCommandResultBody {
  const properties: RunCommandResultBody['properties'] = { provisioningState: WIRE_STATE[row.state] };
  if (row.exitCode !== null) properties.exitCode = row.exitCode;
  if (row.startedAt) properties.startedAt = row.startedAt.toISOString();
  if (row.finishedAt) properties.finishedAt = row.finishedAt.toISOString();
  properties.logs = row.logs;
  if (row.reason) properties.reason = row.reason;
  return { id: toCommandId(row.id), properties };
}
