import pino from 'pino';
import { ConfigError, configFromEnv } from './config';
import { startKubeApiServer } from './server';
import { startControllerManager } from '../../kube-controller-manager/src/controller-manager';
import { LOAD_ONLY_ENV } from '../../../libs/node-provider/src/code-cache';

/** The cluster's Kubernetes API server as a process, configured by KUBE_* variables (see config.ts). */
async function main(): Promise<void> {
  let cfg;
  try {
    cfg = configFromEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kube-apiserver: bad configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: cfg.logLevel, base: { component: 'kube-apiserver', cluster: cfg.clusterName } });
  if (!cfg.kubeletClient) log.warn('no kubelet client certificate (KUBE_KUBELET_CLIENT_CERT_FILE/KEY_FILE): kubelets refuse container log requests');
  const server = await startKubeApiServer(cfg, log).catch((err: Error) => {
    log.fatal({ err }, 'cannot start');
    process.exit(1);
  });
  // The controller manager in this process (KUBE_CONTROLLERS_IN_PROCESS): over the server's loopback socket (plain
  // HTTP on a Unix socket only this user can open) with the server's own loopback token.
  const wanted = cfg.controllersInProcess ?? [];
  const controllers =
    wanted.length > 0
      ? startControllerManager({
          server: 'http://localhost',
          socketPath: server.loopbackSocket,
          // Not for this connection: the root-ca-cert-publisher publishes the CA as kube-root-ca.crt.
          ca: cfg.clientCaPem,
          token: server.loopbackToken,
          userAgent: 'kube-controller-manager/cerulean (in-process)',
          ...(wanted.includes('all') ? {} : { enabled: wanted }),
          allocateNodeCidrs: cfg.allocateNodeCidrs,
          clusterCidr: cfg.clusterCidr,
          nodeCidrMaskSize: cfg.nodeCidrMaskSize,
          log: (message, fields) => log.info({ component: 'kube-controller-manager', ...fields }, message),
        })
      : undefined;
  if (controllers) log.info({ controllers: controllers.controllers.map((c) => c.name), scheduler: !!controllers.scheduler }, 'controllers running in-process');
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    setTimeout(() => process.exit(0), 5_000).unref();
    void (controllers?.stop() ?? Promise.resolve()).then(() => server.close()).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

// Loaded only (its modules), to make or check the bundle's code cache (libs/node-provider/src/cli/app-loader.ts).
if (!process.env[LOAD_ONLY_ENV]) void main();
