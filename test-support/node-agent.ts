import { readCgroupLimits } from '../apps/node-agent/src/cgroup';
import { NodeAgent } from '../apps/node-agent/src/node-agent';

/**
 * A real node agent (no runtime behind it) for tests that need an agent to answer /healthz, drain and the like
 * without a node container: a Standard_B2s node of pool nodepool1.
 */
export function testNodeAgent(nodeName = 'any', clusterId = 'c'): NodeAgent {
  return new NodeAgent({
    config: {
      nodeName,
      cluster: 'c',
      clusterId,
      pool: 'nodepool1',
      zone: '',
      vmSize: 'Standard_B2s',
      kubernetesVersion: '1.33.4',
      nodeImageVersion: 'x',
      labels: {},
      taints: [],
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    },
    problems: [],
    readCgroup: () => readCgroupLimits(),
  });
}
