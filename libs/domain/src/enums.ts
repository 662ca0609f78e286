// Values are stored in Postgres and returned on the wire exactly as ARM spells them: never rename.

export enum ProvisioningState {
  Creating = 'Creating',
  Updating = 'Updating',
  Scaling = 'Scaling',
  Upgrading = 'Upgrading',
  UpgradingNodeImageVersion = 'UpgradingNodeImageVersion',
  Starting = 'Starting',
  Stopping = 'Stopping',
  Canceling = 'Canceling',
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

export const TERMINAL_OPERATION_STATUSES: readonly OperationStatus[] = [OperationStatus.Succeeded, OperationStatus.Failed, OperationStatus.Canceled];

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
  ClusterStart = 'cluster.start',
  ClusterStop = 'cluster.stop',
  /** Cancels the operation in `targetOperationId`; holds a lock key of its own. */
  ClusterAbort = 'cluster.abort',
  AgentPoolUpgradeNodeImage = 'agent-pool.upgrade-node-image',
  /** AKS deleteMachines: the pool's count shrank by the machines named in its `machinesToDelete`, which go first. */
  AgentPoolDeleteMachines = 'agent-pool.delete-machines',
  ClusterRotateCertificates = 'cluster.rotate-certificates',
  ClusterRunCommand = 'cluster.run-command',
  /** Runs an ARM template deployment at resource-group scope; holds the lock key `deployment:<id>`. */
  DeploymentPut = 'deployment.put',
  /**
   * Runs a subscription-scope deployment, which waits for the group-scope deployments it nests: a kind (and a
   * queue) of its own, so those never wait for a slot one of their parents holds.
   */
  SubscriptionDeploymentPut = 'subscription-deployment.put',
  /**
   * A what-if, computed by the API while it answers the request and recorded already ended; its result URL serves
   * the stored WhatIfOperationResult. Never queued.
   */
  DeploymentWhatIf = 'deployment.what-if',
}

/** A template deployment's provisioningState (stored in deployments.provisioning_state). */
export enum DeploymentState {
  Accepted = 'Accepted',
  Running = 'Running',
  Succeeded = 'Succeeded',
  Failed = 'Failed',
  Canceled = 'Canceled',
}

/** The lock key of a deployment's run. */
export const deploymentLockKey = (deploymentId: string): string => `deployment:${deploymentId}`;

/** What the health monitor records about a node (node_events.type). */
export enum NodeEventType {
  NodeNotReady = 'NodeNotReady',
  NodeRepaired = 'NodeRepaired',
  RepairFailed = 'RepairFailed',
  RepairPaused = 'RepairPaused',
}

export const isTerminalProvisioningState = (s: string): boolean =>
  s === ProvisioningState.Succeeded || s === ProvisioningState.Failed || s === ProvisioningState.Canceled;

/** The kinds that run a template deployment (DeploymentHandler). */
export const isDeploymentKind = (kind: OperationKind): boolean => kind === OperationKind.DeploymentPut || kind === OperationKind.SubscriptionDeploymentPut;
