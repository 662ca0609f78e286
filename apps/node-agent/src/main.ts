import * as os from 'node:os';
import { AGENT_PORT, parseAgentConfig } from './agent-config';
import { readCgroupLimits } from './cgroup';
import { NodeAgent } from './node-agent';
import { formatMemory } from './quantity';
import { createAgentServer, jsonLog } from './server';

function defaultCapacity(): Record<string, string> {
  const cgroup = readCgroupLimits();
  return {
    cpu: String(cgroup.cpus ?? os.cpus().length),
    memory: formatMemory(cgroup.memoryMaxBytes ?? os.totalmem()),
    pods: '110',
  };
}

const { config, problems } = parseAgentConfig(process.env, { hostname: os.hostname(), capacity: defaultCapacity });
const agent = new NodeAgent({ config, problems, readCgroup: () => readCgroupLimits() });
const server = createAgentServer(agent);

server.listen(AGENT_PORT, () => {
  jsonLog({ msg: 'listening', port: AGENT_PORT, node: config.nodeName, problems });
});

// Node as PID 1 ignores SIGTERM by default; without this, `docker stop` waits its full 10 s.
function shutdown(signal: NodeJS.Signals): void {
  agent.markStopping();
  jsonLog({ msg: 'stopping', signal });
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1_000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
