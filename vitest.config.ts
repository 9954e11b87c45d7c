import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,property,stats,integration}/**/*.test.ts', 'test/e2e/**/*.e2e.test.ts'],
    hookTimeout: 300_000,
    testTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test/results/vitest.json' }]],
  },
});
