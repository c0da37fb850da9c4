// Jest runs in native ESM mode (node --experimental-vm-modules): NestJS 12, openid-client 6,
// jose 6 and matrix-js-sdk are ESM-only. @swc/jest strips types and emits legacy decorators with
// metadata, as tsc does for the build. See docs/decisions/0010-native-esm-and-jest.md.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/peers/'],
  modulePathIgnorePatterns: ['<rootDir>/test/peers/', '<rootDir>/dist/'],
};
