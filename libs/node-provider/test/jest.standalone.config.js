// Runs the Docker provider integration tests alone, without the repo's integration globalSetup:
//   npx jest -c libs/node-provider/test/jest.standalone.config.js --rootDir . --runInBand
// (needs `npm run build` first: the tests build the node image from dist/apps/node-agent).
const path = require('node:path');
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('../../../tsconfig.json');

const root = path.resolve(__dirname, '../../..');

module.exports = {
  rootDir: root,
  testMatch: ['**/libs/node-provider/test/*.int-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(root, 'tsconfig.json'), isolatedModules: true }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: `${root}/` }),
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testEnvironment: 'node',
  testTimeout: 60_000,
};
