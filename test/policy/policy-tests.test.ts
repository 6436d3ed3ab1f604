import { describe, expect, it } from 'vitest'
import type { PolicySource } from '../../src/policy/input.js'
import { formatPolicyTestResults, parsePolicyTests, runPolicyTests } from '../../src/policy/policy-tests.js'

const config: PolicySource = {
  skills: {},
  rules: [{ id: 'ci', issuer: 'dev', effect: 'allow', match: { subject: 'dev:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
}

describe('policy test runner', () => {
  it('passes matching cases and explains failing ones', () => {
    const parsed = parsePolicyTests({
      cases: [
        { name: 'allowed', issuer: 'dev', claims: { sub: 'dev:me' }, request: { path: '/v1/messages', body: { model: 'claude-x' } }, expect: { effect: 'allow', rule: 'ci', reasons: ['rule-matched', 'endpoint-granted', { code: 'model-granted', detail: 'claude-x' }] } },
        { name: 'wrong expectation', issuer: 'dev', claims: { sub: 'dev:me' }, endpoint: 'messages', body: { model: 'gpt-4' }, expect: { effect: 'allow', includes: ['model-granted'], deniedBy: 'endpoint-not-granted' } },
      ],
    })
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'))
    const results = runPolicyTests(config, parsed.cases)
    expect(results.map((r) => r.passed)).toEqual([true, false])
    expect(results[1]?.failures).toEqual([
      'effect: expected "allow", got "deny"',
      'reasons to include: expected "model-granted", got ["rule-matched (ci)","endpoint-granted (messages)","model-not-granted (gpt-4)"]',
      'deniedBy: expected "endpoint-not-granted", got "model-not-granted (gpt-4)"',
    ])
    const text = formatPolicyTestResults(results)
    expect(text).toContain('PASS allowed')
    expect(text).toContain('FAIL wrong expectation')
    expect(text).toContain('    | decision: deny (rule ci)')
    expect(text.endsWith('1 passed, 1 failed')).toBe(true)
  })

  it('reports malformed case files with paths, including unknown reason codes', () => {
    const parsed = parsePolicyTests([{ name: 'x', issuer: 'dev', claims: {}, expect: { effect: 'maybe', reasons: ['no-such-code'] } }])
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('expect.effect'), expect.stringContaining('unknown reason code')]),
    )
  })
})
