import pino from 'pino';
import { ConfigError, configFromEnv } from './config';
import { startKubeApiServer } from './server';

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
  const server = await startKubeApiServer(cfg, log).catch((err: Error) => {
    log.fatal({ err }, 'cannot start');
    process.exit(1);
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping');
    setTimeout(() => process.exit(0), 5_000).unref();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
