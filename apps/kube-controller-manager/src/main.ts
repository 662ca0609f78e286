import { readFileSync } from 'node:fs';
import pino from 'pino';
import { startControllerManager, type ControllerManagerConfig } from './controller-manager';

export { startControllerManager, type ControllerManagerConfig, type RunningControllerManager } from './controller-manager';

/**
 * Reads KUBE_SERVER, KUBE_CA_FILE, KUBE_CLIENT_CERT_FILE, KUBE_CLIENT_KEY_FILE (and optional KUBE_CONTROLLERS, and
 * KUBE_ALLOCATE_NODE_CIDRS=true with KUBE_CLUSTER_CIDR and KUBE_NODE_CIDR_MASK_SIZE as upstream's flags of those names).
 */
export function configFromEnv(env: NodeJS.ProcessEnv): ControllerManagerConfig {
  const text = (k: string) => env[k]?.trim() ?? '';
  const file = (k: string): string => {
    const path = text(k);
    if (!path) throw new Error(`${k} is required`);
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${k}: cannot read ${path} (${(err as Error).message})`, { cause: err });
    }
  };
  const server = text('KUBE_SERVER');
  if (!/^https:\/\/[^/]+\/?$/.test(server)) throw new Error(`KUBE_SERVER: "${server}" is not an https://host:port URL`);
  const enabled = text('KUBE_CONTROLLERS');
  const allocateNodeCidrs = text('KUBE_ALLOCATE_NODE_CIDRS') === 'true';
  const clusterCidr = text('KUBE_CLUSTER_CIDR');
  if (allocateNodeCidrs && !clusterCidr) throw new Error('KUBE_CLUSTER_CIDR is required with KUBE_ALLOCATE_NODE_CIDRS=true');
  const maskSize = text('KUBE_NODE_CIDR_MASK_SIZE');
  return {
    server: server.replace(/\/$/, ''),
    ca: file('KUBE_CA_FILE'),
    cert: file('KUBE_CLIENT_CERT_FILE'),
    key: file('KUBE_CLIENT_KEY_FILE'),
    ...(enabled ? { enabled: enabled.split(',').map((s) => s.trim()) } : {}),
    ...(allocateNodeCidrs ? { allocateNodeCidrs, clusterCidr, ...(maskSize ? { nodeCidrMaskSize: Number(maskSize) } : {}) } : {}),
  };
}

function main(): void {
  const log = pino({ level: process.env.KUBE_LOG_LEVEL || 'info', base: { component: 'kube-controller-manager' } });
  let config: ControllerManagerConfig;
  try {
    config = configFromEnv(process.env);
  } catch (err) {
    process.stderr.write(`kube-controller-manager: bad configuration: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const manager = startControllerManager({ ...config, log: (message, fields) => log.info(fields ?? {}, message) });
  log.info({ server: config.server, controllers: manager.controllers.map((c) => c.name), scheduler: !!manager.scheduler }, 'kube-controller-manager started');
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    setTimeout(() => process.exit(0), 5_000).unref();
    void manager.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) main();
