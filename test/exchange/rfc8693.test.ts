/**
 * RFC 8693 token exchange (and the RFC 7523 form grant) with a JWT subject token
 * (workload-identity.md §7.1).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  GATEWAY, JWT_BEARER, JWT_TYPE, SAML2_TYPE, TOKEN_EXCHANGE, lastEvent, startExchangeStack, type ExchangeStack,
} from './helpers.js'

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

let stack: ExchangeStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

async function open(options: Parameters<typeof startExchangeStack>[0] = {}): Promise<ExchangeStack> {
  stack = await startExchangeStack(options)
  return stack
}

const exchange = (s: ExchangeStack, extra: Record<string, string | readonly string[]> = {}, headers: Record<string, string> = {}) =>
  s.form({ grant_type: TOKEN_EXCHANGE, subject_token: s.mint(), subject_token_type: JWT_TYPE, ...extra }, headers)

describe('RFC 8693 with a JWT subject token', () => {
  it('returns an access token with issued_token_type and the rule scopes', async () => {
    const s = await open()
    const reply = await exchange(s)
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'claude:messages skill:generate-release-notes' })
    expect(Number.isFinite(reply.json.expires_in)).toBe(true)
    const claims = await s.tokens.verify(reply.json.access_token as string)
    expect(claims).toMatchObject({ sub: 'gha:162148032/797215326', rule: 'release-notes', act: { sub: 'token-exchange' } })
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.succeeded', grant: 'token-exchange' })
  })

  it('accepts id_token subjects, a named rule header, a served resource and access_token as requested type', async () => {
    const s = await open()
    const reply = await exchange(
      s,
      { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', resource: [GATEWAY, `${GATEWAY}/v1`], requested_token_type: ACCESS_TOKEN_TYPE, scope: 'claude:messages' },
      { 'skillgate-rule': 'release-notes' },
    )
    expect(reply.status).toBe(200)
    expect(reply.json.scope).toBe('claude:messages')
  })

  it('evaluates only the rule named in skillgate-rule', async () => {
    const s = await open()
    const reply = await exchange(s, {}, { 'skillgate-rule': 'nightly-saml' })
    expect(reply.json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'no_rule' })
  })

  it('supports the RFC 7523 form-encoded jwt-bearer grant', async () => {
    const s = await open()
    const reply = await s.form({ grant_type: JWT_BEARER, assertion: s.mint() })
    expect(reply.status).toBe(200)
    expect(reply.json).not.toHaveProperty('issued_token_type')
    expect((await s.tokens.verify(reply.json.access_token as string)).act).toEqual({ sub: 'jwt-bearer' })
  })

  const refusals: Array<[string, Record<string, string | readonly string[]>, number, string, string]> = [
    ['an audience parameter', { audience: 'https://api.anthropic.com' }, 400, 'invalid_target', 'audience_parameter'],
    ['an unserved resource', { resource: 'https://api.anthropic.com' }, 400, 'invalid_target', 'resource'],
    ['a resource with a fragment', { resource: `${GATEWAY}#x` }, 400, 'invalid_target', 'resource_syntax'],
    ['a relative resource', { resource: '/v1' }, 400, 'invalid_target', 'resource_syntax'],
    ['an actor_token', { actor_token: 'x', actor_token_type: JWT_TYPE }, 400, 'invalid_request', 'actor_token'],
    ['a requested JWT type', { requested_token_type: JWT_TYPE }, 400, 'invalid_request', 'requested_token_type'],
    ['a SAML 1.1 subject type', { subject_token_type: 'urn:ietf:params:oauth:token-type:saml1' }, 400, 'invalid_request', 'subject_token_type'],
    ['SAML when no SAML issuer is configured', { subject_token_type: SAML2_TYPE }, 400, 'invalid_request', 'subject_token_type'],
    ['no subject_token_type', { subject_token_type: '' }, 400, 'invalid_request', 'missing_parameter'],
    ['a repeated subject_token', { subject_token: ['a', 'b'] }, 400, 'invalid_request', 'duplicate_parameter'],
    ['a scope beyond the rule', { scope: 'claude:messages skills.manage' }, 400, 'invalid_scope', 'scope_not_allowed'],
    ['another grant_type', { grant_type: 'password' }, 400, 'unsupported_grant_type', 'grant_type'],
    ['a client_secret', { client_id: 'x', client_secret: 'y' }, 401, 'invalid_client', 'client_authentication'],
  ]

  it.each(refusals)('refuses %s', async (_name, extra, status, error, reason) => {
    const s = await open()
    const reply = await exchange(s, extra)
    expect(reply.status).toBe(status)
    expect(reply.json.error).toBe(error)
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.failed', reason })
  })

  it('refuses a bad percent-encoding and a missing subject_token', async () => {
    const s = await open()
    const bad = await s.post('application/x-www-form-urlencoded', `grant_type=${encodeURIComponent(TOKEN_EXCHANGE)}&subject_token=%E0%A4%A`)
    expect(bad.json.error).toBe('invalid_request')
    expect(lastEvent(s)).toMatchObject({ reason: 'form_encoding' })
    const missing = await s.form({ grant_type: TOKEN_EXCHANGE, subject_token_type: JWT_TYPE })
    expect(missing.json.error).toBe('invalid_request')
    expect(lastEvent(s)).toMatchObject({ reason: 'missing_parameter', detail: 'subject_token' })
  })

  it('honours single use for RFC 8693 too', async () => {
    const s = await open({ singleUse: true })
    const token = s.mint()
    const params = { grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE }
    expect((await s.form(params)).status).toBe(200)
    expect((await s.form(params)).json.error).toBe('invalid_grant')
  })
})
