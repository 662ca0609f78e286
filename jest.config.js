// Two projects: `unit` (pure logic, fast) and `integration` (real Postgres, Redis and Docker).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const common = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.{e2e,int}-spec.ts'],
      testPathIgnorePatterns: ['<rootDir>/apps/kube-apiserver/', '<rootDir>/apps/kube-controller-manager/'],
      globalSetup: '<rootDir>/test-support/global-setup.ts',
      globalTeardown: '<rootDir>/test-support/global-teardown.ts',
    },
    // The Kubernetes API server's tests start their own etcd and server: none of the platform's global setup.
    { ...common, displayName: 'kube', testMatch: ['<rootDir>/apps/{kube-apiserver,kube-controller-manager}/test/*.int-spec.ts'] },
  ],
};
