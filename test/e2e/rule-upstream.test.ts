/**
 * Issue #12 item 8: a rule may carry its own upstream credential (`rules[].upstream`), so a team's
 * calls — and the batches and files they create — live in that key's workspace. The gateway's own
 * key never leaves for such a rule, and a rule whose credential is missing forwards nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfigText } from '../../src/config/load.js'
import { defaultRules, messageBody, startStack, type Stack } from './harness.js'

const TEAM_KEY = 'sk-ant-api03-team-b-workspace-key-for-tests'
let stack: Stack
beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.rules = [
        defaultRules[0],
        { ...structuredClone(defaultRules[0]!), id: 'team-b', match: { subject: 'repo:acme/team-b:*', claims: { repository_owner_id: '1234567' } }, upstream: { apiKey: { value: TEAM_KEY } } },
      ]
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

const call = async (repo: string) =>
  fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    body: messageBody(),
    headers: { 'x-api-key': await stack.mint({ sub: `repo:acme/${repo}:ref:refs/heads/main` }), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
  })

describe('rules[].upstream', () => {
  it('sends each rule’s call with its own credential, never the gateway’s for a rule that has one', async () => {
    stack.mock.reset()
    expect((await call('app')).status).toBe(200)
    const teamB = await call('team-b')
    await teamB.text()
    // The mock accepts only the gateway's key: the team's key reached it (and its 401 passes through).
    expect(teamB.status).toBe(401)
    const keys = stack.mock.requests.map((r) => r.headers['x-api-key'])
    expect(keys).toEqual([stack.mock.apiKey, TEAM_KEY])
  })

  it('config: exactly one of apiKey or federation', () => {
    const base = { issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'a', jwks: { keys: [] } }], upstream: { apiKey: { value: 'k' } } }
    const text = (upstream: unknown) => JSON.stringify({ ...base, rules: [{ id: 'r', issuer: 'ci', match: { subject: 'x' }, upstream }] })
    const both = loadConfigText(text({ apiKey: { value: 'a' }, federation: { identityToken: { value: 't' }, ruleId: 'fdrl_1', organizationId: 'org' } }), 'test.yaml', {})
    expect(both.ok).toBe(false)
    if (!both.ok) expect(both.problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n')).toContain('rules.0.upstream')
    const neither = loadConfigText(text({}), 'test.yaml', {})
    expect(neither.ok).toBe(false)
  })
})
