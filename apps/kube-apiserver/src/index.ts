export { configFromEnv, ConfigError, KubeApiServerConfig } from './config';
export { RunningKubeApiServer, startKubeApiServer } from './server';
