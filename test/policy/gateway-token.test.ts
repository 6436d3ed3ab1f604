/**
 * `evaluateGatewayToken` (issue #13 item 1): a gateway token's binding is checked against the rules
 * in force today, over the claims of the token it was exchanged for.
 */
import { describe, expect, it } from 'vitest'
import { compilePolicy } from '../../src/policy/compile.js'
import { evaluateGatewayToken } from '../../src/policy/evaluate.js'
import type { RuleInput } from '../../src/policy/input.js'
import { extractRequestFacts } from '../../src/policy/request-facts.js'

const releaseNotes: RuleInput = {
  id: 'release-notes',
  issuer: 'github',
  effect: 'allow',
  match: { subject: 'repo:acme/app:ref:refs/heads/main', claims: { repository_owner_id: '1234567' } },
  principal: 'gha:{repository_owner_id}/{repository_id}',
  allow: { endpoints: ['messages'], models: ['claude-sonnet-*'] },
}
const source = {
  issuerId: 'github',
  claims: { sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42', runner_environment: 'self-hosted' },
}
const bound = { rule: 'release-notes', principal: 'gha:1234567/42', source, endpoint: 'messages' as const }
const facts = extractRequestFacts('messages', { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [] })

function decide(rules: readonly RuleInput[], input: Partial<typeof bound> = {}) {
  return evaluateGatewayToken(compilePolicy(rules, {}), { ...bound, ...input, facts })
}

describe('evaluateGatewayToken', () => {
  it('allows while the bound rule still matches its source and grants the request', () => {
    expect(decide([releaseNotes])).toMatchObject({ effect: 'allow', rule: 'release-notes', principal: 'gha:1234567/42' })
  })

  it('denies once a deny rule added later matches the source claims', () => {
    const deny: RuleInput = { id: 'incident-42', issuer: 'github', effect: 'deny', match: { condition: 'claims.runner_environment != "github-hosted"' } }
    const decision = decide([deny, releaseNotes])
    expect(decision.effect).toBe('deny')
    expect(decision.reasons).toContainEqual({ code: 'deny-rule-matched', detail: 'incident-42' })
  })

  it('denies once the bound rule is narrowed past the source', () => {
    const narrowed = { ...releaseNotes, match: { ...releaseNotes.match, claims: { repository_owner_id: '1234567', repository_id: '99' } } }
    expect(decide([narrowed]).reasons).toContainEqual({ code: 'named-rule-not-matched', detail: 'release-notes' })
  })

  it('denies when the rule is gone, became a deny rule, or belongs to another issuer now', () => {
    expect(decide([]).reasons).toContainEqual({ code: 'named-rule-unknown', detail: 'release-notes' })
    expect(decide([{ id: 'release-notes', issuer: 'github', effect: 'deny', match: { subject: 'repo:x:*' } }]).effect).toBe('deny')
    expect(decide([{ ...releaseNotes, issuer: 'gitlab' }]).reasons).toContainEqual({ code: 'named-rule-unknown', detail: 'release-notes' })
  })

  it('denies when the principal template now maps the source elsewhere', () => {
    const decision = decide([{ ...releaseNotes, principal: 'gha:{repository_id}' }])
    expect(decision.effect).toBe('deny')
    expect(decision.reasons).toContainEqual({ code: 'principal-changed', detail: 'release-notes' })
  })

  it('still checks the grants of the rule against the request', () => {
    const decision = evaluateGatewayToken(compilePolicy([releaseNotes], {}), {
      ...bound, facts: extractRequestFacts('messages', { model: 'claude-opus-4-8', max_tokens: 10, messages: [] }),
    })
    expect(decision.reasons).toContainEqual({ code: 'model-not-granted', detail: 'claude-opus-4-8' })
  })
})
