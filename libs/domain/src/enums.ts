// Values are stored in Postgres and returned on the wire exactly as ARM spells them: never rename.

export enum ProvisioningState {
  Creating = 'Creating',
  Updating = 'Updating',
  Scaling = 'Scaling',
  Deleting = 'Deleting',
  Succeeded = 'Succeeded',
  Failed = 'Failed',
  Canceled = 'Canceled',
}

export enum OperationStatus {
  InProgress = 'InProgress',
  Succeeded = 'Succeeded',
  Failed = 'Failed',
  Canceled = 'Canceled',
}

export const TERMINAL_OPERATION_STATUSES: readonly OperationStatus[] = [
  OperationStatus.Succeeded,
  OperationStatus.Failed,
  OperationStatus.Canceled,
];

export enum PowerStateCode {
  Running = 'Running',
  Stopped = 'Stopped',
}

export enum AgentPoolMode {
  System = 'System',
  User = 'User',
}

// Stored in operations.kind and used as the BullMQ job name: never rename a value.
export enum OperationKind {
  ClusterPut = 'cluster.put',
  ClusterDelete = 'cluster.delete',
  AgentPoolPut = 'agent-pool.put',
  AgentPoolDelete = 'agent-pool.delete',
  ResourceGroupDelete = 'resource-group.delete',
  ClusterRunCommand = 'cluster.run-command',
}

export const isTerminalProvisioningState = (s: string): boolean =>
  s === ProvisioningState.Succeeded || s === ProvisioningState.Failed || s === ProvisioningState.Canceled;
