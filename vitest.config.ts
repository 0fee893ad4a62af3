import { defineConfig } from 'vitest/config';

// TEST_BACKEND=postgres runs the HTTP-level suites again on PostgreSQL + Redis; the unit,
// contract (both adapters already) and SDK unit tests run once, in the default run.
const postgres = process.env.TEST_BACKEND === 'postgres';

export default defineConfig({
  test: {
    include: postgres
      ? ['test/**/*.test.ts', 'packages/sdk/test/**/*.integration.test.ts']
      : ['src/**/*.test.ts', 'test/**/*.test.ts', 'packages/sdk/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/disruptive/**'],
    // Integration tests start real servers and databases; two cores, so keep parallelism modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
