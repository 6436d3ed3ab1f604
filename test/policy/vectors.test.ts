import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { compilePolicy } from '../../src/policy/compile.js'
import type { EndpointName } from '../../src/policy/endpoint.js'
import { evaluatePolicy } from '../../src/policy/evaluate.js'
import { extractRequestFacts } from '../../src/policy/request-facts.js'
import { stringify } from 'yaml'

interface PolicyCase {
  name: string
  issuer: string
  claims: Record<string, unknown>
  endpoint: EndpointName | 'unknown'
  body?: unknown
  namedRule?: string
  expect: { effect: 'allow' | 'deny'; rule?: string; principal?: string; reasons?: string[] }
}

const dir = 'test/vectors/policy'

for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
  const suite = parse(readFileSync(join(dir, file), 'utf8')) as { config: unknown; cases: PolicyCase[] }
  describe(`policy vectors: ${file}`, () => {
    const loaded = loadConfigText(stringify(suite.config), file, {})
    if (!loaded.ok) throw new Error(`${file}: ${JSON.stringify(loaded.problems)}`)
    const policy = compilePolicy(loaded.config.rules)
    for (const c of suite.cases) {
      it(c.name, () => {
        const decision = evaluatePolicy(policy, {
          issuerId: c.issuer,
          claims: c.claims,
          endpoint: c.endpoint,
          facts: extractRequestFacts(c.endpoint, c.body),
          ...(c.namedRule ? { namedRule: c.namedRule } : {}),
        })
        expect(decision.effect).toBe(c.expect.effect)
        if (c.expect.rule) expect(decision.rule).toBe(c.expect.rule)
        if (c.expect.principal) expect(decision.principal).toBe(c.expect.principal)
        if (c.expect.reasons) expect(decision.reasons.map((r) => r.code)).toEqual(c.expect.reasons)
      })
    }
  })
}
