import { defineConfig } from 'vitest/config'

/**
 * Four projects, so a change can be checked at the cost it needs (`npx vitest run --project unit`):
 * unit (pure modules, in-process), contract (the storage contract on SQLite and PostgreSQL), e2e
 * (a running gateway, real clients, the browser), slow (the reliability suite: faults, fuzzing,
 * soak). `npm test` runs all four.
 */
const contract = ['test/contract/**/*.test.ts']
const e2e = ['test/e2e/**/*.test.ts', 'test/mcp/**/*.e2e.test.ts', 'test/ui/**/*.test.ts', 'test/demo/**/*.test.ts', 'test/deploy/**/*.test.ts', 'test/mock-upstream/**/*.test.ts']
const slow = ['test/reliability/**/*.test.ts']
// Child-process suites run dist/: rebuilt first when any source is newer (test/setup/fresh-dist.ts).
const freshDist = ['test/setup/fresh-dist.ts']

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Fixed fast-check seed under CI (test/setup/fast-check-seed.ts).
    setupFiles: ['test/setup/fast-check-seed.ts'],
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-artifacts/vitest-report.json' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...contract, ...e2e, ...slow] } },
      { extends: true, test: { name: 'contract', include: contract } },
      { extends: true, test: { name: 'e2e', include: e2e, globalSetup: freshDist } },
      { extends: true, test: { name: 'slow', include: slow, globalSetup: freshDist } },
    ],
  },
})
