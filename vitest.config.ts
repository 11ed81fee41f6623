// CommonJS syntax on purpose: the project is "type": "commonjs", and Vite warns about ESM syntax in
// a config file it loads as CommonJS.
const { defineConfig } = require('vitest/config') as typeof import('vitest/config');

module.exports = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // harness/ and impls/ transpiled once for the test files that spawn real JavaScript (build_helper.ts)
    globalSetup: ['test/global_tree.ts'],
    // Totality and campaign-style tests run thousands of sequences; on a 2-core CI box the
    // default 5 s is far too tight.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest's default on a 2-core machine is one worker: the test files (many of them waiting on
    // child processes: workers, the Slurm cluster, Chromium) then run one after the other. Two keep
    // `npm test` well inside its 3 minutes.
    maxWorkers: 2,
  },
});
