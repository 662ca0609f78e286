import type { TokenCredential } from '@azure/core-auth';
import {
  AgentPool,
  ContainerServiceClient,
  ManagedCluster,
  ManagedClusterUpgradeProfile,
  RunCommandRequest,
  RunCommandResult,
  AgentPoolUpgradeProfile,
  AgentPoolAvailableVersions,
} from '@azure/arm-containerservice';
import { ContainerServiceClient as ContainerServiceClientV24 } from '@azure/arm-containerservice-v24';

/** The calls of @azure/arm-containerservice the e2e suites make, as both SDK generations declare them. */
export interface AksClient {
  managedClusters: {
    get(resourceGroupName: string, resourceName: string): Promise<ManagedCluster>;
    listByResourceGroup(resourceGroupName: string): AsyncIterable<ManagedCluster>;
    beginCreateOrUpdateAndWait(
      resourceGroupName: string,
      resourceName: string,
      parameters: ManagedCluster,
      options?: { updateIntervalInMs?: number },
    ): Promise<ManagedCluster>;
    beginDeleteAndWait(resourceGroupName: string, resourceName: string, options?: { updateIntervalInMs?: number }): Promise<unknown>;
    beginStopAndWait(resourceGroupName: string, resourceName: string, options?: { updateIntervalInMs?: number }): Promise<unknown>;
    beginStartAndWait(resourceGroupName: string, resourceName: string, options?: { updateIntervalInMs?: number }): Promise<unknown>;
    beginAbortLatestOperationAndWait(resourceGroupName: string, resourceName: string, options?: { updateIntervalInMs?: number }): Promise<unknown>;
    getUpgradeProfile(resourceGroupName: string, resourceName: string): Promise<ManagedClusterUpgradeProfile>;
    beginRunCommandAndWait(
      resourceGroupName: string,
      resourceName: string,
      requestPayload: RunCommandRequest,
      options?: { updateIntervalInMs?: number },
    ): Promise<RunCommandResult>;
    // 24.x types the 202 of a command still running as no body.
    getCommandResult(resourceGroupName: string, resourceName: string, commandId: string): Promise<RunCommandResult | void>;
  };
  agentPools: {
    get(resourceGroupName: string, resourceName: string, agentPoolName: string): Promise<AgentPool>;
    list(resourceGroupName: string, resourceName: string): AsyncIterable<AgentPool>;
    beginCreateOrUpdateAndWait(
      resourceGroupName: string,
      resourceName: string,
      agentPoolName: string,
      parameters: AgentPool,
      options?: { updateIntervalInMs?: number },
    ): Promise<AgentPool>;
    beginUpgradeNodeImageVersionAndWait(
      resourceGroupName: string,
      resourceName: string,
      agentPoolName: string,
      options?: { updateIntervalInMs?: number },
    ): Promise<unknown>;
    getUpgradeProfile(resourceGroupName: string, resourceName: string, agentPoolName: string): Promise<AgentPoolUpgradeProfile>;
    getAvailableAgentPoolVersions(resourceGroupName: string, resourceName: string): Promise<AgentPoolAvailableVersions>;
  };
}

export interface SdkGeneration {
  /** `25.x` for the TypeSpec-generated client (core-lro 3), `24.x` for the AutoRest one (core-client, core-lro 2). */
  label: string;
  /** The generation the package's own name resolves to; suites run their SDK-independent checks only with it. */
  newest: boolean;
  /** Appended to resource group and cluster names so the generations never share Docker nodes. */
  suffix: string;
  client(credential: TokenCredential, subscriptionId: string, options: { endpoint: string; updateIntervalInMs: number }): AksClient;
}

export const sdkGenerations: SdkGeneration[] = [
  { label: '25.x', newest: true, suffix: '', client: (c, s, o) => new ContainerServiceClient(c, s, o) },
  // The AutoRest client builds its URLs from `$host` (`endpoint` is only the pipeline's base URL), and asks for a
  // token of `${endpoint}/.default` unless told the ARM scope, as anyone pointing 24.x at Cerulean has to.
  {
    label: '24.x',
    newest: false,
    suffix: 'v24',
    client: (c, s, o) => new ContainerServiceClientV24(c, s, { ...o, $host: o.endpoint, credentialScopes: 'https://management.azure.com/.default' }),
  },
];
