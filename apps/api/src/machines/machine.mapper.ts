import { agentPoolId } from '@cerulean/arm';

/** The part of a Kubernetes Node (as the cluster's control plane serves it) that a machine is made from. */
export interface KubeNodeWire {
  metadata: { name: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type: string; status: string; reason?: string; lastHeartbeatTime?: string }[];
    addresses?: { type: string; address: string }[];
    nodeInfo?: { kubeletVersion?: string };
  };
}

export const MACHINE_TYPE = 'Microsoft.ContainerService/managedClusters/agentPools/machines';
export const POOL_LABEL = 'kubernetes.azure.com/agentpool';

export interface MachineOwner {
  subscriptionId: string;
  resourceGroup: string;
  cluster: string;
  pool: string;
  nodeResourceGroup: string;
  /** The pool's VMSS name part: `aks-<pool>-<digits>-vmss`. */
  vmssName: string;
  /** Whether the pool spreads over availability zones (AKS reports `zones` only then). */
  zonal: boolean;
}

/**
 * AKS `Machine` (Machines_List/Get): `properties.network.ipAddresses` and `properties.resourceId` are the spec's
 * fields; `zones` is set for zonal pools. What the spec lacks and an operator needs (Ready, last heartbeat, zone,
 * versions, age) is in `properties.nodeStatus`, Cerulean's addition, read from the node's Kubernetes status.
 */
export function toMachine(owner: MachineOwner, node: KubeNodeWire) {
  const name = node.metadata.name;
  const labels = node.metadata.labels ?? {};
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const zone = labels['topology.kubernetes.io/zone'];
  const index = /vmss(\d+)$/.exec(name)?.[1];
  return {
    id: `${agentPoolId(owner.subscriptionId, owner.resourceGroup, owner.cluster, owner.pool)}/machines/${name}`,
    name,
    type: MACHINE_TYPE,
    ...(owner.zonal && zone ? { zones: [zone] } : {}),
    properties: {
      network: { ipAddresses: ip ? [{ family: ip.includes(':') ? 'IPv6' : 'IPv4', ip }] : [] },
      resourceId: `/subscriptions/${owner.subscriptionId}/resourceGroups/${owner.nodeResourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${owner.vmssName}/virtualMachines/${index !== undefined ? String(Number(index)) : name}`,
      nodeStatus: {
        nodeName: name,
        ready: ready?.status ?? 'Unknown',
        ...(ready?.reason ? { readyReason: ready.reason } : {}),
        ...(ready?.lastHeartbeatTime ? { lastHeartbeatTime: ready.lastHeartbeatTime } : {}),
        ...(node.metadata.creationTimestamp ? { createdTime: node.metadata.creationTimestamp } : {}),
        zone: zone ?? '0',
        kubeletVersion: node.status?.nodeInfo?.kubeletVersion?.replace(/^v/, '') ?? '',
        nodeImageVersion: labels['kubernetes.azure.com/node-image-version'] ?? '',
        vmSize: labels['node.kubernetes.io/instance-type'] ?? '',
        unschedulable: node.spec?.unschedulable === true,
      },
    },
  };
}

export type Machine = ReturnType<typeof toMachine>;
