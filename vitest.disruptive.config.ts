import { defineConfig } from 'vitest/config';

// Tests that disturb shared services (a PostgreSQL restart): run alone, after the main suites.
export default defineConfig({
  test: {
    include: ['test/disruptive/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
