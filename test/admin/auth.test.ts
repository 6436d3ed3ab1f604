import crypto from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createAuthenticator, rolesFromClaim } from '../../src/admin/auth.js'
import type { Config } from '../../src/config/load.js'
import { Secret } from '../../src/config/secret-source.js'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

let s: AdminStack

beforeAll(async () => {
  s = await startAdminStack()
})
afterAll(async () => {
  await s.close()
})
afterEach(() => {
  vi.restoreAllMocks()
})

async function errorOf(res: Response) {
  return { status: res.status, body: (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string } }
}

describe('admin API authentication', () => {
  it('refuses a missing credential with 401 and says how to send one', async () => {
    const { status, body } = await errorOf(await s.call('GET', '/admin/api/audit'))
    expect(status).toBe(401)
    expect(body.error.type).toBe('authentication_error')
    expect(body.error.message).toContain('Authorization: Bearer')
    // The admin API's own words, not the data plane's (it takes no workload token and no x-api-key).
    expect(body.error.message).toMatch(/^no admin credential: /)
    expect(body.error.message).not.toMatch(/x-api-key|workload/)
  })

  it.each([
    ['a wrong token', `Bearer ${TOKENS.admin}x`],
    ['a prefix of a real token', `Bearer ${TOKENS.admin.slice(0, 10)}`],
    ['a different scheme', `Basic ${Buffer.from(`x:${TOKENS.admin}`).toString('base64')}`],
    ['a token without scheme', TOKENS.admin],
    ['a JWT of an unknown issuer', 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwifQ.c2ln'],
  ])('refuses %s with 401', async (_name, header) => {
    const res = await fetch(`${s.url}/admin/api/audit`, { headers: { authorization: header } })
    const { status, body } = await errorOf(res)
    expect(status).toBe(401)
    expect(JSON.stringify(body)).not.toContain(TOKENS.admin)
  })

  it('compares SHA-256 digests with crypto.timingSafeEqual, against every configured token', async () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual')
    expect((await s.call('GET', '/admin/api/health', TOKENS.approver)).status).toBe(200)
    // Three tokens configured: three comparisons even though the second one matched (no early exit).
    expect(spy).toHaveBeenCalledTimes(3)
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32)
      expect((b as Buffer).length).toBe(32)
    }
    const presented = crypto.createHash('sha256').update(TOKENS.approver).digest()
    expect(spy.mock.calls.some(([a]) => presented.equals(a as Buffer))).toBe(true)
    spy.mockClear()
    expect((await s.call('GET', '/admin/api/health', 'short')).status).toBe(401)
    expect(spy).toHaveBeenCalledTimes(3)
  })

  it('reads each admin token once, at start-up, and never again per request', async () => {
    const config = s.stack.gateway.config
    const secrets = config.admin.tokens.map((_t, i) => Secret.resolve({ value: `sg-fresh-token-${i}-0123456789` }))
    const reveals = secrets.map((secret) => vi.spyOn(secret, 'reveal'))
    const auth = createAuthenticator(config, secrets, undefined)
    expect(reveals.map((r) => r.mock.calls.length)).toEqual([1, 1, 1])
    const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as IncomingMessage
    await expect(auth.authenticate(request('sg-fresh-token-1-0123456789'))).resolves.toMatchObject({ kind: 'token', id: 'admin.tokens[1]' })
    await expect(auth.authenticate(request('sg-fresh-token-9-0123456789'))).rejects.toMatchObject({ code: 'GW_AUTHN_INVALID' })
    expect(reveals.map((r) => r.mock.calls.length), 'requests compare digests, not the secret').toEqual([1, 1, 1])
    auth.close()
  })

  it('follows a rotated token file: the new token works and the old one stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-admin-'))
    const file = join(dir, 'token')
    writeFileSync(file, 'sg-rotating-token-old-0123456789\n')
    const config = { admin: { tokens: [{ roles: ['admin'] }] } } as unknown as Config
    const secret = Secret.resolve({ fromFile: file })
    const auth = createAuthenticator(config, [secret], undefined)
    const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as IncomingMessage
    try {
      await expect(auth.authenticate(request('sg-rotating-token-old-0123456789'))).resolves.toMatchObject({ kind: 'token' })
      writeFileSync(file, 'sg-rotating-token-new-0123456789-longer\n')
      await expect.poll(() => auth.authenticate(request('sg-rotating-token-new-0123456789-longer')).then(() => 'ok', () => 'refused'), { timeout: 5_000, interval: 100 }).toBe('ok')
      await expect(auth.authenticate(request('sg-rotating-token-old-0123456789'))).rejects.toMatchObject({ code: 'GW_AUTHN_INVALID' })
    } finally {
      auth.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('never logs a credential', async () => {
    const human = await s.mintHuman({ sub: 'carol@example.com', groups: ['auditor'] })
    for (const token of [...Object.values(TOKENS), human, 'sg-wrong-token-value-1234567890']) await (await s.call('GET', '/admin/api/config', token)).text()
    const logs = s.adminLogs.join('')
    expect(logs).toContain('admin request')
    for (const token of [...Object.values(TOKENS), human, 'sg-wrong-token-value-1234567890']) expect(logs).not.toContain(token)
  })

  it('accepts a human OIDC token of admin.issuers with roles from its role claim', async () => {
    const auditor = await s.mintHuman({ sub: 'dana@example.com', groups: 'auditor' })
    expect((await s.call('GET', '/admin/api/audit', auditor)).status).toBe(200)
    const denied = await errorOf(await s.call('POST', '/admin/api/revocations', auditor, { kind: 'principal', principal: 'x' }))
    expect(denied.status).toBe(403)
    expect(denied.body.error.message).toBe('the credential lacks a role this needs: this route needs role admin; the credential has auditor')
    const line = s.adminLogs.find((l) => l.includes('oidc:people:dana@example.com'))
    expect(line, 'the actor is logged by its safe id').toBeDefined()
  })

  it('refuses an expired or wrongly signed human token with 401', async () => {
    const expired = await s.mintHuman({ sub: 'eve@example.com', groups: ['admin'], exp: Math.floor(Date.now() / 1000) - 120 })
    expect((await s.call('GET', '/admin/api/audit', expired)).status).toBe(401)
    const [h, p] = (await s.mintHuman({ sub: 'eve@example.com', groups: ['admin'] })).split('.')
    const forged = `${h}.${p}.${Buffer.from('x'.repeat(64)).toString('base64url')}`
    expect((await s.call('GET', '/admin/api/audit', forged)).status).toBe(401)
  })

  it('maps role claims exactly, to admin, approver and auditor only', () => {
    expect([...rolesFromClaim('admin')]).toEqual(['admin'])
    expect([...rolesFromClaim(['approver', 'auditor', 'Admin', 'root', 7])]).toEqual(['approver', 'auditor'])
    expect([...rolesFromClaim(undefined)]).toEqual([])
    expect([...rolesFromClaim({ admin: true })]).toEqual([])
    // Mapped: group names or ids as the IdP sends them; the role names themselves no longer count.
    const map = { admin: ['sg-admins'], approver: ['release-managers', '6f1c0b2e-approvers'], auditor: ['security'] }
    expect([...rolesFromClaim(['release-managers', 'security', 'admin'], map)]).toEqual(['approver', 'auditor'])
    expect([...rolesFromClaim('6f1c0b2e-approvers', map)]).toEqual(['approver'])
    expect([...rolesFromClaim(['everyone'], map)]).toEqual([])
  })

  it('answers with no-store and a request id on success and refusal alike', async () => {
    for (const token of [TOKENS.auditor, undefined]) {
      const res = await s.call('GET', '/admin/api/health', token)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('skillgate-request-id')).toMatch(/^[0-9A-Z]{26}$/)
    }
  })
})
