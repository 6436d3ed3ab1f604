/**
 * The Claude WIF form of `POST /v1/oauth/token` (anthropic-api.md §12, workload-identity.md §7.2):
 * success, every refusal, single use, the 16 KiB cap and the exchange-only token vectors.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { buildVectorToken, createVectorContext, loadTokenVectors, vectorIssuerSpecs } from '../fixtures/issuers/token-factory.js'
import { ORG, lastEvent, startExchangeStack, type ExchangeStack } from './helpers.js'

let stack: ExchangeStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

async function open(options: Parameters<typeof startExchangeStack>[0] = {}): Promise<ExchangeStack> {
  stack = await startExchangeStack(options)
  return stack
}

describe('WIF exchange: success', () => {
  it('returns exactly {access_token, token_type, expires_in} with no-store', async () => {
    const s = await open()
    const reply = await s.wif(s.mint())
    expect(reply.status).toBe(200)
    expect(Object.keys(reply.json).sort()).toEqual(['access_token', 'expires_in', 'token_type'])
    expect(reply.json.token_type).toBe('Bearer')
    expect(Number.isFinite(reply.json.expires_in)).toBe(true)
    expect(reply.headers['cache-control']).toBe('no-store')
    expect(reply.headers['content-type']).toMatch(/^application\/json/)
  })

  it('mints a gateway token bound to the rule and principal, with act and src', async () => {
    const s = await open()
    const assertion = s.mint()
    const source = decodeJwt(assertion)
    const reply = await s.wif(assertion)
    const claims = await s.tokens.verify(reply.json.access_token as string)
    expect(claims).toMatchObject({
      iss: 'https://skillgate.example',
      aud: 'https://skillgate.example/v1',
      sub: 'gha:162148032/797215326',
      rule: 'release-notes',
      act: { sub: 'workload-federation' },
      scope: 'claude:messages skill:generate-release-notes',
    })
    expect(claims.src).toMatchObject({ iss: source.iss, sub: source.sub, jti: source.jti, repository: 'octo-org/octo-repo', run_id: '10685993555' })
    expect(claims.exp - claims.iat).toBe(reply.json.expires_in)
    // GitHub tokens live 300 s: min(ttl 300, 2 × 300) = 300.
    expect(reply.json.expires_in).toBe(300)
  })

  it('reports the exchange to onEvent without any token', async () => {
    const s = await open()
    const assertion = s.mint()
    const reply = await s.wif(assertion)
    const event = lastEvent(s)
    expect(event).toMatchObject({ type: 'exchange.succeeded', grant: 'wif', issuerId: 'github', rule: 'release-notes', principal: 'gha:162148032/797215326' })
    const text = JSON.stringify(s.events)
    expect(text).not.toContain(assertion.split('.')[2])
    expect(text).not.toContain((reply.json.access_token as string).split('.')[2])
  })

  it('a gateway token is neither an assertion nor a workload token (RFC 8725 §3.12)', async () => {
    const s = await open()
    const gatewayToken = (await s.wif(s.mint())).json.access_token as string
    const again = await s.wif(gatewayToken)
    expect(again).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    expect(lastEvent(s)).toMatchObject({ reason: 'token:untrusted_issuer' })
    await expect(s.verifier.verify(gatewayToken)).rejects.toMatchObject({ reason: 'untrusted_issuer' })
  })

  it('grants a requested subset of the rule scopes, and an allowed workspace', async () => {
    const s = await open()
    const reply = await s.wif(s.mint(), { scope: 'claude:messages', workspace_id: 'wrkspc_allowed' })
    expect(reply.status).toBe(200)
    expect((await s.tokens.verify(reply.json.access_token as string)).scope).toBe('claude:messages')
  })

  it('caps the lifetime by the assertion (WIF formula) and never below 60 s', async () => {
    let now = Date.now()
    const s = await open({ now: () => now })
    const assertion = s.mint()
    now += 270_000 // 30 s left on the assertion
    const reply = await s.wif(assertion)
    expect(reply.json.expires_in).toBe(60)
  })
})

describe('WIF exchange: refusals', () => {
  const cases: Array<[string, (s: ExchangeStack) => Promise<{ status: number; json: Record<string, unknown> }>, number, string, string]> = [
    ['another content type', (s) => s.post('text/plain', 'x'), 400, 'invalid_request', 'content_type'],
    ['no content type', (s) => s.post(undefined, '{}'), 400, 'invalid_request', 'content_type'],
    ['broken JSON', (s) => s.post('application/json', '{"grant_type":'), 400, 'invalid_request', 'json'],
    ['a duplicated member', (s) => s.post('application/json', `{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":"a","assertion":"b"}`), 400, 'invalid_request', 'json'],
    ['a JSON array', (s) => s.post('application/json', '[]'), 400, 'invalid_request', 'json'],
    ['invalid UTF-8', (s) => s.post('application/json', Buffer.from([0x7b, 0xff, 0x7d])), 400, 'invalid_request', 'json'],
    ['no grant_type', (s) => s.wif(s.mint(), { grant_type: undefined }), 400, 'invalid_request', 'missing_parameter'],
    ['another grant_type', (s) => s.wif(s.mint(), { grant_type: 'client_credentials' }), 400, 'unsupported_grant_type', 'grant_type'],
    ['no assertion', (s) => s.wif('', {}), 400, 'invalid_request', 'missing_parameter'],
    ['a non-string assertion', (s) => s.wif(s.mint(), { assertion: 42 }), 400, 'invalid_request', 'parameter_type'],
    ['no federation_rule_id', (s) => s.wif(s.mint(), { federation_rule_id: undefined }), 400, 'invalid_request', 'missing_parameter'],
    ['no organization_id', (s) => s.wif(s.mint(), { organization_id: undefined }), 400, 'invalid_request', 'missing_parameter'],
    ['another organization', (s) => s.wif(s.mint(), { organization_id: 'other-org' }), 400, 'invalid_grant', 'organization'],
    ['an unknown rule', (s) => s.wif(s.mint(), { federation_rule_id: 'fdrl_nope' }), 400, 'invalid_grant', 'no_rule'],
    ['claims the rule does not match', (s) => s.wif(s.mint({ ref: 'refs/heads/dev' })), 400, 'invalid_grant', 'no_rule'],
    ['an expired assertion', (s) => s.wif(s.mint({}, { now: Date.now() - 600_000 })), 400, 'invalid_grant', 'token:expired'],
    ['another audience', (s) => s.wif(s.mint({}, { audience: 'https://other.example' })), 400, 'invalid_grant', 'token:claims'],
    ['an unknown kid', (s) => s.wif(s.mint({}, { kid: 'nope' })), 400, 'invalid_grant', 'token:unknown_kid'],
    ['a garbage assertion', (s) => s.wif('not-a-jwt'), 400, 'invalid_grant', 'token:malformed'],
    ['a scope beyond the rule', (s) => s.wif(s.mint(), { scope: 'claude:messages admin' }), 400, 'invalid_scope', 'scope_not_allowed'],
    ['a malformed scope', (s) => s.wif(s.mint(), { scope: 'a  b' }), 400, 'invalid_scope', 'scope_syntax'],
    ['a workspace the rule does not allow', (s) => s.wif(s.mint(), { workspace_id: 'wrkspc_other' }), 400, 'invalid_grant', 'workspace'],
    ['a service account the rule does not allow', (s) => s.wif(s.mint(), { service_account_id: 'svac_x' }), 400, 'invalid_grant', 'service_account'],
    ['an Authorization header', (s) => s.wif(s.mint(), {}, { authorization: 'Basic Y2xpZW50OnNlY3JldA==' }), 401, 'invalid_client', 'client_authentication'],
    ['a client_secret', (s) => s.wif(s.mint(), { client_secret: 'x' }), 401, 'invalid_client', 'client_authentication'],
    ['a conflicting skillgate-rule header', (s) => s.wif(s.mint(), {}, { 'skillgate-rule': 'other' }), 400, 'invalid_request', 'rule_conflict'],
    ['a body over 128 KiB', (s) => s.wif(s.mint(), { padding: 'x'.repeat(130 * 1024) }), 400, 'invalid_request', 'body_too_large'],
  ]

  it.each(cases)('refuses %s', async (_name, send, status, error, reason) => {
    const s = await open()
    const reply = await send(s)
    expect(reply.status).toBe(status)
    expect(reply.json.error).toBe(error)
    expect(Object.keys(reply.json).sort()).toEqual(['error', 'error_description'])
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.failed', error, reason, status })
  })

  it('keeps the public description generic: the same text whatever the real reason', async () => {
    const s = await open()
    const expired = await s.wif(s.mint({}, { now: Date.now() - 600_000 }))
    const noRule = await s.wif(s.mint({ ref: 'refs/heads/dev' }))
    const badKid = await s.wif(s.mint({}, { kid: 'nope' }))
    expect(expired.json.error_description).toBe(noRule.json.error_description)
    expect(badKid.json.error_description).toBe(noRule.json.error_description)
    expect(noRule.json.error_description).not.toMatch(/release-notes|kid|audience/i)
  })

  it('answers 401 with a challenge for the scheme the client tried', async () => {
    const s = await open()
    const reply = await s.wif(s.mint(), {}, { authorization: 'Basic Y2xpZW50OnNlY3JldA==' })
    expect(reply.headers['www-authenticate']).toBe('Basic realm="skillgate"')
  })

  it('refuses an issuer that is not configured for exchange', async () => {
    const s = await open({ policies: [] })
    expect((await s.wif(s.mint())).json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'issuer_not_exchangeable', issuerId: 'github' })
  })

  it('refuses a revoked principal', async () => {
    const s = await open({ deps: { isRevoked: (_identity, principal) => principal === 'gha:162148032/797215326' } })
    expect((await s.wif(s.mint())).json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'revoked', rule: 'release-notes' })
  })

  it('fails closed with 503 when the replay store is down', async () => {
    const s = await open({ singleUse: true, deps: { replay: { useOnce: () => Promise.reject(new Error('db down')) } } })
    const reply = await s.wif(s.mint())
    expect(reply).toMatchObject({ status: 503, json: { error: 'temporarily_unavailable' } })
  })

  it('answers 503 when the issuer keys cannot be loaded', async () => {
    const s = await open({
      issuers: [{ id: 'github', issuer: 'https://token.actions.example', jwks: { kind: 'file', path: '/nonexistent/jwks.json' }, audience: 'https://skillgate.example', algorithms: ['RS256'], maxLifetimeMs: 900_000, clockSkewMs: 30_000, requiredClaims: [] }],
    })
    const reply = await s.wif(s.mint())
    expect(reply).toMatchObject({ status: 503, json: { error: 'temporarily_unavailable' } })
    expect(lastEvent(s)).toMatchObject({ reason: 'token:issuer_unavailable' })
  })

  it('turns an unexpected failure into 500 server_error without details', async () => {
    const s = await open({ deps: { matchRule: () => { throw new Error('policy exploded: secret-ish detail') } } })
    const reply = await s.wif(s.mint())
    expect(reply).toMatchObject({ status: 500, json: { error: 'server_error' } })
    expect(JSON.stringify(reply.json)).not.toContain('exploded')
    expect(lastEvent(s)).toMatchObject({ reason: 'internal', detail: 'Error' })
  })
})

describe('WIF exchange: single use', () => {
  it('singleUse on: the same assertion is exchanged once, a new one works', async () => {
    const s = await open({ singleUse: true })
    const assertion = s.mint()
    expect((await s.wif(assertion)).status).toBe(200)
    const replay = await s.wif(assertion)
    expect(replay).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    expect(lastEvent(s)).toMatchObject({ reason: 'replay' })
    expect((await s.wif(s.mint())).status).toBe(200)
  })

  it('singleUse off: the SDK may re-send an unchanged assertion (documented behaviour)', async () => {
    const s = await open({ singleUse: false })
    const assertion = s.mint()
    expect((await s.wif(assertion)).status).toBe(200)
    expect((await s.wif(assertion)).status).toBe(200)
  })

  it('singleUse on requires a jti', async () => {
    const s = await open({ singleUse: true })
    expect((await s.wif(s.mint({ jti: undefined }))).json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'token:claims', detail: 'jti' })
  })

  it('a refused exchange does not use the assertion up', async () => {
    const s = await open({ singleUse: true })
    const assertion = s.mint()
    expect((await s.wif(assertion, { scope: 'admin' })).status).toBe(400)
    expect((await s.wif(assertion)).status).toBe(200)
  })
})

describe('WIF exchange: assertion size', () => {
  it('accepts a 12 KiB assertion and refuses one over 16 KiB with invalid_grant', async () => {
    const s = await open()
    expect((await s.wif(s.mint({ filler: 'a'.repeat(9_000) }))).status).toBe(200)
    const big = s.mint({ filler: 'a'.repeat(13_000) })
    expect(big.length).toBeGreaterThan(16 * 1024)
    expect((await s.wif(big)).json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'token:too_large' })
  })
})

describe('WIF exchange: exchange-only token vectors', async () => {
  const vectors = (await loadTokenVectors()).filter((vector) => vector.verify !== undefined)
  const ctx = await createVectorContext()

  it('has vectors to run', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(4)
  })

  it.each(vectors.map((vector) => [vector.id, vector] as const))('%s', async (_id, vector) => {
    const s = await open({
      now: () => ctx.now,
      issuers: vectorIssuerSpecs(ctx),
      // vector-primary enforces single use, so `requireJti` vectors are refused as they are at the verifier.
      policies: [{ id: 'vector-primary', singleUse: true }, { id: 'vector-rfc9068', singleUse: false }, { id: 'vector-other', singleUse: false }],
      rules: [{ id: 'vectors', issuer: 'vector-primary', match: () => true, principal: (c) => `v:${String(c.sub)}` }],
    })
    const reply = await s.wif(await buildVectorToken(vector, ctx), { federation_rule_id: 'vectors', organization_id: ORG })
    if ('valid' in vector.expect) {
      expect(reply.status).toBe(200)
      return
    }
    expect(reply).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    expect(lastEvent(s)).toMatchObject({ reason: `token:${vector.expect.reason}` })
  })
})
