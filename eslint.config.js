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
          { group: ['**/stages/**', '**/pipeline/**', '**/server*'], message: 'domain modules must not import stages or the pipeline' },
        ],
      },
    ],
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
  domainBoundary,
)
