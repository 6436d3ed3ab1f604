import { describe, expect, it } from 'vitest'
import { explainDecision } from '../../src/policy/explain.js'
import type { PolicySource } from '../../src/policy/input.js'

const config: PolicySource = {
  skills: { notes: { type: 'custom', id: 'skill_01Notes', versions: ['latest'] } },
  rules: [
    { id: 'no-self-hosted', issuer: 'github', effect: 'deny', match: { condition: 'claims.runner_environment != "github-hosted"' } },
    {
      id: 'release-notes',
      issuer: 'github',
      effect: 'allow',
      match: { subject: 'repo:acme/app:ref:refs/heads/main', claims: { repository_owner_id: '1234567' } },
      principal: 'gha:{repository_owner_id}/{repository_id}',
      allow: { endpoints: ['messages'], models: ['claude-sonnet-*'], skills: ['notes'], requireSkill: true, maxTokens: 8000 },
    },
    { id: 'other', issuer: 'github', effect: 'allow', match: { subject: 'repo:acme/other:*' }, allow: { endpoints: ['models'] } },
  ],
}
const claims = { sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42', runner_environment: 'github-hosted' }

describe('explainDecision', () => {
  it('prints the decision, the request, every rule of the issuer and every reason', () => {
    const { decision, text } = explainDecision(config, claims, 'github', {
      method: 'post',
      path: '/v1/messages?beta=true',
      body: { model: 'claude-opus-4-8', max_tokens: 9000, messages: [] },
    })
    expect(decision.effect).toBe('deny')
    expect(text).toMatchInlineSnapshot(`
      "decision: deny (rule release-notes)
      principal: gha:1234567/42
      request: POST /v1/messages -> endpoint messages
      rules of issuer github:
        - no-self-hosted (deny): no match: condition is false
        - release-notes (allow): matches
        - other (allow): no match: subject
      reasons:
        ✓ rule-matched: rule release-notes matches this identity
        ✓ endpoint-granted: endpoint messages is granted
        ✗ model-not-granted: model claude-opus-4-8 is not in allow.models
        ✗ skill-required: the request carries no granted skill, and the rule requires one (allow.requireSkill)
        ✗ max-tokens-exceeded: max_tokens 9000 > 8000 (allow.maxTokens)
      denied by: model-not-granted"
    `)
  })

  it('shows a deny condition error counted as a match, and honours the skillgate-rule header', () => {
    const { text } = explainDecision(config, { ...claims, runner_environment: undefined }, 'github', { method: 'GET', path: '/v1/models', headers: { 'skillgate-rule': 'other' } })
    expect(text).toContain('- no-self-hosted (deny): matches (condition error counts as a match: missing claim runner_environment)')
    expect(text).toContain('- release-notes (allow): not evaluated, the client named other')
    expect(text).toContain('! condition-error: condition of rule no-self-hosted failed: missing claim runner_environment')
  })

  it('checks container ownership against the owners it is given', () => {
    const body = { model: 'claude-sonnet-4-6', max_tokens: 10, container: 'container_1' }
    const request = { method: 'POST', path: '/v1/messages', body }
    expect(explainDecision(config, claims, 'github', request).decision.reasons.map((r) => r.code)).toContain('container-owner-unknown')
    expect(explainDecision(config, claims, 'github', request, { containerOwners: { container_1: 'gha:1234567/42' } }).decision.effect).toBe('allow')
  })
})
