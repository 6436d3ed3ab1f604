import { describe, expect, it } from 'vitest'
import { checkPolicyConfig } from '../../src/policy/check-config.js'
import { compilePolicy, PolicyCompileError } from '../../src/policy/compile.js'
import type { RuleInput, SkillCatalog } from '../../src/policy/input.js'

const skills: SkillCatalog = { notes: { type: 'custom', id: 'skill_01Notes', versions: ['latest'] } }
const rule = (overrides: Partial<RuleInput>): RuleInput => ({ id: 'r', issuer: 'github', effect: 'allow', match: { subject: 'repo:acme/app:*' }, allow: { endpoints: ['messages'], models: ['*'] }, ...overrides })

describe('checkPolicyConfig', () => {
  it('reports every problem with its config path, without stopping at the first', () => {
    const rules = [
      rule({ match: { condition: 'claims.workflow ==' } }),
      rule({ id: 'r2', allow: { endpoints: ['messages'], skills: ['notes', 'nope', 'anthropic:xlsx', 'skill_01Notes'], mcpServers: ['https://ok.example/x', 'not a url', 'https://u:p@mcp.example/'] } }),
      rule({ id: 'r3', match: { condition: 'true' } }),
      rule({ id: 'r4', effect: 'deny', match: { condition: 'true' }, allow: undefined }),
    ]
    const problems = checkPolicyConfig({ rules, skills })
    expect(problems.map((p) => [p.path.join('.'), p.message])).toEqual([
      ['rules.0.match.condition', expect.stringMatching(/^CEL syntax error/)],
      ['rules.1.allow.skills.1', 'unknown skill "nope": not an alias or id under skills:, nor anthropic:ID / custom:ID'],
      ['rules.1.allow.mcpServers.1', '"not a url" is not an absolute URL'],
      ['rules.1.allow.mcpServers.2', 'an MCP server prefix has no credentials, query or fragment'],
      ['rules.2.match.condition', 'the condition never reads claims: it is constant and identifies nobody'],
    ])
    expect(problems.every((p) => p.hint === undefined || p.hint.length > 0)).toBe(true)
  })

  it('accepts a valid policy', () => {
    expect(checkPolicyConfig({ rules: [rule({ match: { subject: 'repo:acme/app:*', condition: 'claims.workflow == "release"' } })], skills })).toEqual([])
  })
})

describe('compilePolicy', () => {
  it('refuses at boot a policy that config validation would have rejected', () => {
    expect(() => compilePolicy([rule({ match: { condition: 'claim.x == 1' } })], skills)).toThrow(PolicyCompileError)
    expect(() => compilePolicy([rule({ match: { condition: 'claim.x == 1' } })], skills)).toThrow('rules.0.match.condition: unknown variable "claim"')
  })
})
