import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { compilePolicy } from '../../src/policy/compile.js'
import { selectRule } from '../../src/policy/select-rule.js'

/** The MCP side of test/vectors/policy/surfaces.yaml: at /mcp/{id}, rules that grant nothing there step aside. */
const fragment = (parse(readFileSync('test/vectors/policy/surfaces.yaml', 'utf8')) as { config: unknown }).config
const loaded = loadConfigText(stringify(fragment), 'surfaces.yaml', {})
if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
const policy = compilePolicy(loaded.config.rules, loaded.config.skills)
const atTickets = { serves: (rule: { serves: { mcp: ReadonlySet<string> } }) => rule.serves.mcp.has('tickets') }

describe('rule selection at /mcp/{id}', () => {
  it('a /v1 rule matching too steps aside for the rule that grants the server', () => {
    const selection = selectRule(policy, { issuerId: 'github', claims: { sub: 'repo:acme/app:ref:refs/heads/main', workflow: 'deploy' }, ...atTickets })
    expect(selection.ok && selection.rule.id).toBe('app-deployer')
  })

  it('without the surface both match: ambiguous, as before', () => {
    const selection = selectRule(policy, { issuerId: 'github', claims: { sub: 'repo:acme/app:ref:refs/heads/main', workflow: 'deploy' } })
    expect(selection.ok).toBe(false)
    if (!selection.ok) expect(selection.decision.reasons.map((r) => r.code)).toContain('ambiguous-rules')
  })

  it('a lone /v1 rule still decides at /mcp/{id} (the endpoint then says it grants no tools there)', () => {
    const selection = selectRule(policy, { issuerId: 'github', claims: { sub: 'repo:acme/app:ref:refs/heads/main' }, ...atTickets })
    expect(selection.ok && selection.rule.id).toBe('app')
  })
})
