/**
 * SAML limits brought in line with OIDC issuers (issue #13): the signature algorithm allow-list, a
 * capped clock skew with replay entries that outlive it, and a future `IssueInstant` refused and
 * counted toward `maxLifetime`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REPLAY_GRACE_MS, type SamlIssuerSpec } from '../../src/exchange/index.js'
import { createSamlVerifier } from '../../src/exchange/saml.js'
import { createSamlIdp, type SamlIdp } from './fixtures/saml-idp.js'
import { GATEWAY, SAML2_TYPE, TOKEN_ENDPOINT, TOKEN_EXCHANGE, lastEvent, startExchangeStack, type ExchangeStack } from './helpers.js'

let idp: SamlIdp
beforeAll(() => {
  idp = createSamlIdp('https://idp.corp.example/saml', { recipient: TOKEN_ENDPOINT, audience: GATEWAY })
})

const spec = (overrides: Partial<SamlIssuerSpec> = {}): SamlIssuerSpec => ({
  id: 'corp-saml', entityId: idp.entityId, certificates: [idp.certificatePem], audience: GATEWAY, maxLifetimeMs: 600_000, clockSkewMs: 30_000, ...overrides,
})

let stack: ExchangeStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

async function open(overrides: Partial<SamlIssuerSpec> = {}, now?: () => number): Promise<ExchangeStack> {
  const saml = createSamlVerifier({ tokenEndpoint: TOKEN_ENDPOINT, issuers: [spec(overrides)], ...(now ? { now } : {}) })
  stack = await startExchangeStack({ saml, ...(now ? { now } : {}) })
  return stack
}

const exchange = (s: ExchangeStack, subjectToken: string) => s.form({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: SAML2_TYPE })

describe('SAML signature algorithms', () => {
  it.each([
    ['RSA-SHA1 with a SHA-1 digest', 'sha1', 'sha1'],
    ['RSA-SHA1 with a SHA-256 digest', 'sha1', 'sha256'],
    ['RSA-SHA256 with a SHA-1 digest', 'sha256', 'sha1'],
  ] as const)('refuses %s even though the signature is valid', async (_name, signatureAlgorithm, digestAlgorithm) => {
    const s = await open()
    const reply = await exchange(s, idp.assertion({ signatureAlgorithm, digestAlgorithm }).token)
    expect(reply).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.failed', reason: 'saml:algorithm' })
  })

  it('accepts RSA-SHA512 with a SHA-512 digest', async () => {
    const s = await open()
    expect((await exchange(s, idp.assertion({ signatureAlgorithm: 'sha512', digestAlgorithm: 'sha512' }).token)).status).toBe(200)
  })
})

describe('SAML clock skew and replay', () => {
  it('refuses a clockSkew above 5 minutes when the verifier is built', () => {
    expect(() => createSamlVerifier({ tokenEndpoint: TOKEN_ENDPOINT, issuers: [spec({ clockSkewMs: 10 * 60_000 })] })).toThrow(/clockSkewMs must be at most/)
    expect(() => createSamlVerifier({ tokenEndpoint: TOKEN_ENDPOINT, issuers: [spec({ clockSkewMs: 5 * 60_000 })] })).not.toThrow()
  })

  it('keeps the replay entry until NotOnOrAfter + the largest allowed skew', async () => {
    let now = Date.now()
    const s = await open({ clockSkewMs: 5 * 60_000 }, () => now)
    const issuedAt = now
    const { token } = idp.assertion({ issuedAt, lifetimeMs: 120_000 })
    expect((await exchange(s, token)).status).toBe(200)
    // The store itself keeps the entry that long, whatever the verifier would still accept.
    now = issuedAt + 120_000 + REPLAY_GRACE_MS - 1_000
    expect(await s.replay.useOnce(idp.entityId, lastSuccessJti(s), new Date(now + 60_000))).toBe(false)
  })
})

function lastSuccessJti(s: ExchangeStack): string {
  const event = s.events.find((e) => e.type === 'exchange.succeeded')
  if (event?.type !== 'exchange.succeeded' || event.jti === undefined) throw new Error('no successful exchange')
  return event.jti
}

describe('SAML IssueInstant', () => {
  it('refuses an IssueInstant in the future beyond the skew, even within maxLifetime', async () => {
    const s = await open()
    const now = Date.now()
    // The finding: IssueInstant now + 50 min, NotOnOrAfter now + 55 min, NotBefore in the past.
    const reply = await exchange(s, idp.assertion({ issuedAt: now + 50 * 60_000, lifetimeMs: 5 * 60_000, notBefore: now - 60_000 }).token)
    expect(reply.json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'saml:issue_instant' })
  })

  it('accepts an IssueInstant within the skew and counts the time to it toward maxLifetime', async () => {
    const s = await open({ maxLifetimeMs: 120_000 })
    const now = Date.now()
    expect((await exchange(s, idp.assertion({ issuedAt: now + 20_000, lifetimeMs: 90_000, notBefore: now - 60_000 }).token)).status).toBe(200)
    // now → NotOnOrAfter is 125 s: over 120 s although NotOnOrAfter − IssueInstant is only 100 s.
    const reply = await exchange(s, idp.assertion({ issuedAt: now + 25_000, lifetimeMs: 100_000, notBefore: now - 60_000 }).token)
    expect(reply.json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'saml:lifetime' })
  })
})
