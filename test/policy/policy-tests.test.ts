import { describe, expect, it } from 'vitest'
import type { PolicySource } from '../../src/policy/input.js'
import { formatPolicyTestResults, parsePolicyTestFile, parsePolicyTests, runPolicyTests } from '../../src/policy/policy-tests.js'

const config: PolicySource = {
  skills: {},
  rules: [{ id: 'ci', issuer: 'dev', effect: 'allow', match: { subject: 'dev:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
}

describe('policy test runner', () => {
  it('passes matching cases and explains failing ones', () => {
    const parsed = parsePolicyTests({
      cases: [
        { name: 'allowed', issuer: 'dev', claims: { sub: 'dev:me' }, request: { path: '/v1/messages', body: { model: 'claude-x' } }, expect: { decision: 'allow', rule: 'ci', reasons: ['rule-matched', 'endpoint-granted', { code: 'model-granted', detail: 'claude-x' }] } },
        { name: 'wrong expectation', issuer: 'dev', claims: { sub: 'dev:me' }, endpoint: 'messages', body: { model: 'gpt-4' }, expect: { effect: 'allow', includes: ['model-granted'], deniedBy: 'endpoint-not-granted' } },
      ],
    })
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'))
    const results = runPolicyTests(config, parsed.cases)
    expect(results.map((r) => r.passed)).toEqual([true, false])
    expect(results[1]?.failures).toEqual([
      'decision: expected "allow", got "deny"',
      'reasons to include: expected "model-granted", got ["rule-matched (ci)","endpoint-granted (messages)","model-not-granted (gpt-4)"]',
      'deniedBy: expected "endpoint-not-granted", got "model-not-granted (gpt-4)"',
    ])
    expect(parsed.warnings, 'the old word is accepted with a warning').toEqual([expect.stringContaining('cases.1.expect.effect: "effect" is deprecated, write "decision: allow" (case "wrong expectation")')])
    const text = formatPolicyTestResults(results)
    expect(text).toContain('PASS allowed')
    expect(text).toContain('FAIL wrong expectation')
    expect(text).toContain('    | decision: deny (rule ci)')
    expect(text.endsWith('1 passed, 1 failed')).toBe(true)
  })

  it('needs exactly one of decision or effect, and names the line of a problem in a file', () => {
    const both = parsePolicyTests([{ name: 'x', issuer: 'dev', claims: {}, endpoint: 'messages', expect: { decision: 'allow', effect: 'allow' } }])
    expect(both.ok || both.problems).toEqual([expect.stringContaining('expect.decision: expect needs exactly one decision')])
    const file = parsePolicyTestFile('cases:\n  - name: x\n    issuer: dev\n    claims: {}\n    endpoint: messages\n    expect: { decision: allow, reasons: [nope] }\n')
    expect(file.ok || file.problems).toEqual(['line 6: cases.0.expect.reasons.0: unknown reason code'])
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
