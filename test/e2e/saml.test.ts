import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSamlIdp, type SamlIdp } from '../exchange/fixtures/saml-idp.js'
import { messageBody, startStack, type Stack } from './harness.js'

/** RFC 8693 with a SAML 2.0 assertion, configured through `samlIssuers`, end to end. */
const AUDIENCE = 'https://skillgate.test/saml'
const ADMIN = 'admin-token-for-the-saml-tests-0123456789'
let idp: SamlIdp
let stack: Stack

beforeAll(async () => {
  idp = createSamlIdp('https://idp.corp.test/saml', { recipient: 'set-per-assertion', audience: AUDIENCE })
  stack = await startStack({
    configure: (config) => {
      config.admin = { tokens: [{ secret: { value: ADMIN }, roles: ['admin'] }] }
      config.samlIssuers = [{ id: 'corp-saml', entityId: idp.entityId, certificates: [{ value: idp.certificatePem }], audience: AUDIENCE }]
      ;(config.rules as unknown[]).push({ id: 'nightly-saml', issuer: 'corp-saml', match: { subject: 'svc-nightly' }, principal: 'saml:{sub}', allow: { endpoints: ['messages'], models: ['claude-*'] } })
    },
  })
})
afterAll(async () => {
  await stack.close()
})

const exchange = (subjectToken: string) =>
  fetch(`${stack.url}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subjectToken, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }),
  })

describe('SAML assertion exchange through the gateway', () => {
  it('exchanges a signed assertion once, and the gateway token calls Claude', async () => {
    const { token } = idp.assertion({ nameId: 'svc-nightly', recipient: `${stack.url}/v1/oauth/token` })
    const res = await exchange(token)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { access_token: string; issued_token_type: string; token_type: string }
    expect(body).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer' })
    const call = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect(call.status).toBe(200)
    const record = await stack.gateway.audit.storage.audit.get(call.headers.get('skillgate-request-id')!)
    expect(record).toMatchObject({ principal: 'saml:svc-nightly', rule: 'nightly-saml' })
    expect((await exchange(token)).status, 'an assertion is single use').toBe(400)
  })

  it('refuses an assertion addressed to another endpoint', async () => {
    const { token } = idp.assertion({ nameId: 'svc-nightly', recipient: 'https://elsewhere.example/token' })
    expect((await exchange(token)).status).toBe(400)
  })

  it('a SAML issuer disabled through the admin API refuses its assertions and its live gateway tokens; enabling it restores both', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${stack.url}/admin/api${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })
    const first = await exchange(idp.assertion({ nameId: 'svc-nightly', recipient: `${stack.url}/v1/oauth/token` }).token)
    const { access_token } = (await first.json()) as { access_token: string }
    const callWith = (token: string) => fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect((await callWith(access_token)).status).toBe(200)
    expect((await admin('POST', '/revocations', { kind: 'issuer', issuer: 'corp-saml', reason: 'incident' })).status).toBe(201)
    await expect.poll(async () => (await callWith(access_token)).status, { timeout: 3_000 }).toBe(401)
    expect((await exchange(idp.assertion({ nameId: 'svc-nightly', recipient: `${stack.url}/v1/oauth/token` }).token)).status).toBeGreaterThanOrEqual(400)
    expect((await admin('DELETE', '/revocations/issuer/corp-saml')).status).toBe(200)
    await expect.poll(async () => (await exchange(idp.assertion({ nameId: 'svc-nightly', recipient: `${stack.url}/v1/oauth/token` }).token)).status, { timeout: 3_000 }).toBe(200)
  })
})
