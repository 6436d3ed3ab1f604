import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'
import { fakeJwt, messagesBody } from './helpers.js'

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

let mock: MockUpstream

beforeAll(async () => {
  mock = await startMockUpstream({ federation: { accessTokenTtlSeconds: 600 } })
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => mock.reset())

/** The exchange as SDK 1.x sends it (reference §12.2): JSON, no credential, no anthropic-version. */
function exchange(target: MockUpstream, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(`${target.url}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'anthropic-beta': 'oauth-2025-04-20,oidc-federation-2026-04-01' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

function callWithBearer(target: MockUpstream, token: string): Promise<Response> {
  return fetch(`${target.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2026-10-21', 'content-type': 'application/json' },
    body: JSON.stringify(messagesBody()),
  })
}

describe('POST /v1/oauth/token (federation)', () => {
  it('mints a token for a well-formed assertion, records the exchange, and accepts the token', async () => {
    const assertion = fakeJwt()
    const res = await exchange(mock, {
      grant_type: JWT_BEARER, assertion, federation_rule_id: 'fdrl_release', organization_id: '00000000-0000-0000-0000-000000000001',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('request-id')).toMatch(/^req_mock_/)
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number }
    expect(body.access_token).toMatch(/^sk-ant-oat01-mock-/)
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600 })
    expect(mock.exchanges).toEqual([{ assertion, federation_rule_id: 'fdrl_release', organization_id: '00000000-0000-0000-0000-000000000001' }])
    expect((await callWithBearer(mock, body.access_token)).status).toBe(200)
    expect(mock.requests.map((r) => r.path)).toEqual(['/v1/oauth/token', '/v1/messages'])
  })

  it.each([
    ['wrong grant', { grant_type: 'refresh_token', assertion: fakeJwt() }, 'unsupported_grant_type'],
    ['two segments', { grant_type: JWT_BEARER, assertion: 'abc.def' }, 'invalid_grant'],
    ['garbage segments', { grant_type: JWT_BEARER, assertion: 'a.b.c' }, 'invalid_grant'],
    ['form body', `grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=${fakeJwt()}`, 'invalid_request'],
  ])('rejects %s with an RFC 6749 error', async (_name, body, error) => {
    const res = await exchange(mock, body, typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error })
    expect(mock.exchanges).toHaveLength(0)
  })

  it('stops accepting a token once it expires', async () => {
    const shortLived = await startMockUpstream({ federation: { accessTokenTtlSeconds: 0 } })
    try {
      const res = await exchange(shortLived, { grant_type: JWT_BEARER, assertion: fakeJwt() })
      const { access_token } = (await res.json()) as { access_token: string }
      const denied = await callWithBearer(shortLived, access_token)
      expect(denied.status).toBe(401)
      expect(await denied.json()).toMatchObject({ error: { type: 'authentication_error' } })
    } finally {
      await shortLived.close()
    }
  })

  it('is a 404 when federation is not enabled', async () => {
    const plain = await startMockUpstream()
    try {
      expect((await exchange(plain, { grant_type: JWT_BEARER, assertion: fakeJwt() })).status).toBe(404)
    } finally {
      await plain.close()
    }
  })
})
