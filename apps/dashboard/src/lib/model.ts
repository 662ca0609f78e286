// The wire shapes the dashboard reads (the public ARM API's; only the fields it shows).

export interface Subscription {
  subscriptionId: string;
  displayName: string;
}

export interface ResourceGroup {
  id: string;
  name: string;
  location: string;
}

export interface PoolProperties {
  count: number;
  vmSize: string;
  mode: string;
  orchestratorVersion: string;
  currentOrchestratorVersion?: string;
  nodeImageVersion?: string;
  availabilityZones?: string[];
  provisioningState: string;
  powerState?: { code: string };
}

export interface Pool {
  id: string;
  name: string;
  properties: PoolProperties;
}

export interface Cluster {
  id: string;
  name: string;
  location: string;
  properties: {
    provisioningState: string;
    powerState?: { code: string };
    kubernetesVersion: string;
    currentKubernetesVersion?: string;
    fqdn?: string;
    agentPoolProfiles?: (PoolProperties & { name: string })[];
    status?: { provisioningError?: { code: string; message: string } };
  };
}

export interface Machine {
  id: string;
  name: string;
  zones?: string[];
  properties: {
    network?: { ipAddresses?: { ip: string }[] };
    nodeStatus: {
      ready: string;
      readyReason?: string;
      lastHeartbeatTime?: string;
      createdTime?: string;
      zone: string;
      kubeletVersion: string;
      nodeImageVersion: string;
      vmSize: string;
    };
  };
}

export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: unknown[];
}

export interface Operation {
  id: string;
  name: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: string;
  endTime?: string;
  percentComplete?: number;
  error?: ArmErrorDetail;
  resourceId?: string;
  kind?: string;
  createdBy?: string;
}

export interface UpgradeProfile {
  properties: { controlPlaneProfile: { kubernetesVersion: string; upgrades?: { kubernetesVersion: string; isPreview?: boolean }[] } };
}

export const TERMINAL = ['Succeeded', 'Failed', 'Canceled'];
