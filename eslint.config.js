// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Domain modules stay free of HTTP and pipeline types (style-anchors §3.3). */
const domainBoundary = {
  files: [
    'src/identity/**/*.ts',
    'src/policy/**/*.ts',
    'src/masking/**/*.ts',
    'src/sse/**/*.ts',
    'src/audit/**/*.ts',
    'src/exchange/**/*.ts',
    'src/approvals/**/*.ts',
    'src/limits/**/*.ts',
  ],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [
          { name: 'node:http', message: 'domain modules must not depend on HTTP' },
          { name: 'node:http2', message: 'domain modules must not depend on HTTP' },
          { name: 'undici', message: 'domain modules must not depend on the upstream client' },
        ],
        patterns: [
          { group: ['**/stages/**', '**/pipeline/**', '**/http/**'], message: 'domain modules must not import stages, the pipeline or the HTTP server' },
          { group: ['**/wiring/**'], message: 'only the composition root imports its own parts' },
        ],
      },
    ],
  },
}

/** The composition root (src/wiring/) is imported by its entry points (cli, demo) only: parts never reach back up. */
const compositionRootBoundary = {
  files: ['src/**/*.ts'],
  ignores: ['src/wiring/**', 'src/cli/**', 'src/demo/**'],
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: ['**/wiring/**'], message: 'only the entry points (cli, demo) import the composition root' }] }],
  },
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cc-home/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', performance: 'readonly', structuredClone: 'readonly', fetch: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['src/cli/**/*.ts', 'bench/**', 'test/**', 'scripts/**'], rules: { 'no-console': 'off' } },
  compositionRootBoundary,
  domainBoundary,
)
