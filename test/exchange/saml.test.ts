/**
 * RFC 8693 `saml2` subject tokens through node-saml and skillgate's wrappers (workload-identity.md
 * §8): each row of the reference's table that says "skillgate wrapper" has a test here.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSamlVerifier, type SamlIssuerSpec } from '../../src/exchange/saml.js'
import { createSamlIdp, type SamlIdp } from './fixtures/saml-idp.js'
import { GATEWAY, SAML2_TYPE, TOKEN_ENDPOINT, TOKEN_EXCHANGE, lastEvent, startExchangeStack, type ExchangeStack } from './helpers.js'

let idp: SamlIdp
let impostor: SamlIdp
beforeAll(() => {
  idp = createSamlIdp('https://idp.corp.example/saml', { recipient: TOKEN_ENDPOINT, audience: GATEWAY })
  // Same entity ID, different key: what an attacker without the IdP's key can produce.
  impostor = createSamlIdp('https://idp.corp.example/saml', { recipient: TOKEN_ENDPOINT, audience: GATEWAY })
})

const spec = (overrides: Partial<SamlIssuerSpec> = {}): SamlIssuerSpec => ({
  id: 'corp-saml',
  entityId: idp.entityId,
  certificates: [idp.certificatePem],
  audience: GATEWAY,
  maxLifetimeMs: 600_000,
  clockSkewMs: 30_000,
  ...overrides,
})

let stack: ExchangeStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

async function open(overrides: Partial<SamlIssuerSpec> = {}): Promise<ExchangeStack> {
  stack = await startExchangeStack({ saml: createSamlVerifier({ tokenEndpoint: TOKEN_ENDPOINT, issuers: [spec(overrides)] }) })
  return stack
}

const exchange = (s: ExchangeStack, subjectToken: string) =>
  s.form({ grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: SAML2_TYPE })

describe('SAML 2.0 assertion exchange', () => {
  it('exchanges a signed assertion for a gateway token', async () => {
    const s = await open()
    const { token, id } = idp.assertion()
    const reply = await exchange(s, token)
    expect(reply.status).toBe(200)
    const claims = await s.tokens.verify(reply.json.access_token as string)
    expect(claims).toMatchObject({ sub: 'saml:svc-nightly', rule: 'nightly-saml', act: { sub: 'token-exchange' }, scope: 'claude:messages' })
    expect(claims.src).toMatchObject({ iss: idp.entityId, sub: 'svc-nightly', jti: id })
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.succeeded', issuerId: 'corp-saml', jti: id })
  })

  it('normalises attributes to arrays of strings and reads the certificate through a function', async () => {
    const verifier = createSamlVerifier({ tokenEndpoint: TOKEN_ENDPOINT, issuers: [spec({ certificates: () => [idp.certificatePem] })] })
    const identity = await verifier.verify(idp.assertion({ attributes: { department: ['platform'], groups: ['eng', 'ops'] } }).token)
    expect(identity.issuerId).toBe('corp-saml')
    expect(identity.claims).toMatchObject({ iss: idp.entityId, sub: 'svc-nightly', aud: GATEWAY, attributes: { department: ['platform'], groups: ['eng', 'ops'] } })
    expect(Object.isFrozen(identity.claims)).toBe(true)
  })

  it('refuses a replay of the same assertion ID', async () => {
    const s = await open()
    const { token } = idp.assertion()
    expect((await exchange(s, token)).status).toBe(200)
    expect((await exchange(s, token)).json.error).toBe('invalid_grant')
    expect(lastEvent(s)).toMatchObject({ reason: 'replay', issuerId: 'corp-saml' })
  })

  const refusals: Array<[string, () => string, string]> = [
    ['a Recipient that is another endpoint', () => idp.assertion({ recipient: 'https://other-sp.example/acs' }).token, 'saml:recipient'],
    ['a holder-of-key confirmation', () => idp.assertion({ method: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }).token, 'saml:recipient'],
    ['a DOCTYPE with an internal entity', () => idp.assertion({ prolog: '<!DOCTYPE x [<!ENTITY e "boom">]>' }).token, 'saml:doctype'],
    ['any DOCTYPE', () => idp.assertion({ prolog: '<?xml version="1.0"?><!DOCTYPE saml:Assertion>' }).token, 'saml:doctype'],
    ['an unsigned assertion', () => idp.assertion({ sign: false }).token, 'saml:signature'],
    ['an assertion signed by another key', () => impostor.assertion().token, 'saml:signature'],
    ['a tampered NameID', () => idp.assertion({ mutate: (xml) => xml.replace('>svc-nightly<', '>svc-admin<') }).token, 'saml:signature'],
    ['another audience', () => idp.assertion({ audience: 'https://other-sp.example' }).token, 'saml:audience'],
    ['an expired assertion', () => idp.assertion({ issuedAt: Date.now() - 900_000 }).token, 'saml:time'],
    ['a lifetime over maxLifetime', () => idp.assertion({ lifetimeMs: 3_600_000 }).token, 'saml:lifetime'],
    ['an unknown IdP', () => idp.assertion({ issuer: 'https://evil.example' }).token, 'saml:untrusted_issuer'],
    ['two assertions (XSW)', () => {
      const good = idp.assertion().xml
      return Buffer.from(good + good.replace('svc-nightly', 'svc-admin')).toString('base64url')
    }, 'saml:malformed'],
    ['an evil assertion after a stray end tag', () => {
      const good = idp.assertion().xml
      return Buffer.from(`${good}</samlp:Response><samlp:Response>${good.replace('svc-nightly', 'svc-admin')}`).toString('base64url')
    }, 'saml:malformed'],
    ['a whole Response instead of an assertion', () =>
      Buffer.from(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${idp.assertion().xml}</samlp:Response>`).toString('base64url'), 'saml:malformed'],
    ['standard base64 with + and /', () => Buffer.from(idp.assertion().xml).toString('base64').replace(/[A-Za-z0-9]{4}$/, '+/+/'), 'saml:malformed'],
    ['a declared non-UTF-8 encoding', () => idp.assertion({ prolog: '<?xml version="1.0" encoding="ISO-8859-1"?>' }).token, 'saml:malformed'],
    ['an assertion over 64 KiB', () => idp.assertion({ attributes: { blob: ['x'.repeat(70 * 1024)] } }).token, 'saml:too_large'],
  ]

  it.each(refusals)('refuses %s', async (_name, build, reason) => {
    const s = await open()
    const reply = await exchange(s, build())
    expect(reply).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.failed', reason })
  })

  it('checks the signature, not just the Issuer, when an impostor copies the entity ID', async () => {
    const s = await open()
    const reply = await exchange(s, impostor.assertion({ nameId: 'svc-nightly' }).token)
    expect(reply.json.error).toBe('invalid_grant')
  })
})
