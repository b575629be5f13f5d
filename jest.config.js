// ESM + TypeScript: ts-jest transpiles each file (type checking is `npm run typecheck`).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { isolatedModules: true, module: 'ESNext', moduleResolution: 'Bundler', allowImportingTsExtensions: true, verbatimModuleSyntax: false, rewriteRelativeImportExtensions: false } }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
};
