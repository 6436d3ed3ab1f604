import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageBody, startStack, type Stack } from './harness.js'

/** `upstream.federation`: the gateway holds no static Claude key; it exchanges its own workload token. */
let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    mock: { federation: { accessTokenTtlSeconds: 3600 } },
    configure: (config) => {
      const upstream = config.upstream as Record<string, unknown>
      delete upstream.apiKey
      // Any well-formed JWT-shaped assertion: the mock's token endpoint checks the form, not a signature.
      upstream.federation = { identityToken: { value: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJza2lsbGdhdGUifQ.c2ln' }, ruleId: 'fdrl_gateway', organizationId: '00000000-0000-0000-0000-000000000001' }
    },
  })
})
afterAll(async () => {
  await stack.close()
})

describe('upstream federation', () => {
  it('exchanges once at start and calls upstream with the federated token and the OAuth beta', async () => {
    expect(stack.mock.exchanges).toHaveLength(1)
    expect(stack.mock.exchanges[0]).toMatchObject({ federation_rule_id: 'fdrl_gateway', organization_id: '00000000-0000-0000-0000-000000000001' })
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': await stack.mint(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect(res.status).toBe(200)
    const seen = stack.mock.requests.find((r) => r.path === '/v1/messages')!
    expect(seen.headers.authorization).toMatch(/^Bearer sk-ant-oat01-mock/)
    expect(seen.headers['x-api-key']).toBeUndefined()
    expect(String(seen.headers['anthropic-beta'])).toContain('oauth-2025-04-20')
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as { upstreamCredential: { ok: boolean } }
    expect(ready.upstreamCredential.ok).toBe(true)
  })
})
