import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import type { PolicySource } from '../../src/policy/input.js'
import { formatPolicyTestResults, parsePolicyTests, runPolicyTests } from '../../src/policy/policy-tests.js'

/**
 * The project's policy vectors (test/vectors/policy/*.yaml), run by the same runner as
 * `skillgate policy test`: a config fragment, then cases of claims + request → decision.
 */
const dir = 'test/vectors/policy'

for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
  const parsed = parsePolicyTests(parse(readFileSync(join(dir, file), 'utf8')))
  if (!parsed.ok) throw new Error(`${file}: ${parsed.problems.join('; ')}`)
  const fragment = parsed.config as { rules?: unknown[]; skills?: Record<string, unknown> } | undefined
  if (!fragment) throw new Error(`${file}: the project's vectors carry their config`)
  const loaded = loadConfigText(stringify(fragment), file, {})
  if (!loaded.ok) throw new Error(`${file}: config refused: ${JSON.stringify(loaded.problems)}`)
  const source: PolicySource = loaded.config

  describe(`policy vectors: ${file}`, () => {
    const results = runPolicyTests(source, parsed.cases)
    for (const result of results) {
      it(result.name, () => {
        if (!result.passed) expect.fail(formatPolicyTestResults([result]))
      })
    }
  })
}
