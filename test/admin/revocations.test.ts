import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISSUER } from '../e2e/harness.js'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

let s: AdminStack

beforeAll(async () => {
  s = await startAdminStack()
})
afterAll(async () => {
  await s.close()
})

const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; iat: number }
const revoke = (body: unknown) => s.call('POST', '/admin/api/revocations', TOKENS.admin, body)

describe('admin API: revocations', () => {
  it('a principal revoked through the API is refused on the gateway\'s very next /v1 call', async () => {
    const token = await s.stack.mint({ repository_id: '70' })
    expect((await s.v1(token)).status).toBe(200)
    const res = await revoke({ kind: 'principal', principal: 'ci:1234567/70', before: new Date((decode(token).iat + 1) * 1000).toISOString(), reason: 'leaked' })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ kind: 'principal', principal: 'ci:1234567/70', version: expect.any(Number) })
    // No polling: the API refreshed this gateway's revocation cache before answering.
    expect((await s.v1(token)).status).toBe(401)
    expect((await s.v1(await s.stack.mint({ repository_id: '71' }))).status).toBe(200)
    expect(s.actions.at(-1)).toMatchObject({ action: 'revocation.principal', actor: { kind: 'token', id: 'admin.tokens[0]' }, target: { principal: 'ci:1234567/70' }, reason: 'leaked' })
  })

  it('lists what is in force, with who revoked it', async () => {
    const body = (await (await s.call('GET', '/admin/api/revocations', TOKENS.auditor)).json()) as { revocations: { kind: string; subject: string; actor: string; reason: string }[] }
    expect(body.revocations).toContainEqual(expect.objectContaining({ kind: 'principal', subject: 'ci:1234567/70', actor: 'admin.tokens[0]', reason: 'leaked' }))
  })

  it('lifts a principal revocation (percent-encoded principal in the path)', async () => {
    const token = await s.stack.mint({ repository_id: '72' })
    await revoke({ kind: 'principal', principal: 'ci:1234567/72', before: new Date(Date.now() + 5_000).toISOString() })
    expect((await s.v1(token)).status).toBe(401)
    const res = await s.call('DELETE', `/admin/api/revocations/principal/${encodeURIComponent('ci:1234567/72')}`, TOKENS.admin)
    expect(await res.json()).toMatchObject({ kind: 'principal', principal: 'ci:1234567/72' })
    expect((await s.v1(token)).status).toBe(200)
    expect(s.actions.at(-1)).toMatchObject({ action: 'revocation.principal.lift' })
  })

  it('revokes one token by (iss, jti), leaving its sibling', async () => {
    const leaked = await s.stack.mint({ repository_id: '73' })
    const sibling = await s.stack.mint({ repository_id: '73' })
    expect((await revoke({ kind: 'token', iss: ISSUER, jti: decode(leaked).jti })).status).toBe(201)
    expect((await s.v1(leaked)).status).toBe(401)
    expect((await s.v1(sibling)).status).toBe(200)
  })

  it('disables and enables an issuer', async () => {
    const token = await s.stack.mint({ repository_id: '74' })
    expect((await revoke({ kind: 'issuer', issuer: 'ci' })).status).toBe(201)
    expect((await s.v1(token)).status).toBe(401)
    expect((await s.call('DELETE', '/admin/api/revocations/issuer/ci', TOKENS.admin)).status).toBe(200)
    expect((await s.v1(token)).status).toBe(200)
    expect(s.actions.slice(-2).map((a) => a.action)).toEqual(['revocation.issuer', 'revocation.issuer.enable'])
  })

  it.each([
    [{}, 'kind'],
    [{ kind: 'everyone' }, 'kind'],
    [{ kind: 'principal' }, 'principal'],
    [{ kind: 'token', iss: ISSUER }, 'jti'],
    [{ kind: 'principal', principal: 'p', before: 'soon' }, 'before'],
    [{ kind: 'principal', principal: 'p', colour: 'red' }, 'colour'],
    [{ kind: 'issuer', issuer: 'gihtub' }, 'issuer'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    const res = await revoke(body)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(field)
  })

  it('refuses malformed JSON and bodies over 1 MiB', async () => {
    const bad = await s.call('POST', '/admin/api/revocations', TOKENS.admin, '{"kind":')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('not valid JSON')
    const big = await s.call('POST', '/admin/api/revocations', TOKENS.admin, JSON.stringify({ kind: 'principal', principal: 'x'.repeat(1_100_000) }))
    expect(big.status).toBe(413)
  })

  it('refuses a repeated member, so no reader can take the other one, and changes nothing', async () => {
    const before = (await s.stack.gateway.audit.storage.revocations.list()).length
    const twice = await s.call('POST', '/admin/api/revocations', TOKENS.admin, '{"kind":"issuer","issuer":"ci","kind":"principal","principal":"rt:dupkey"}')
    expect(twice.status).toBe(400)
    expect(((await twice.json()) as { error: { message: string } }).error.message).toContain('duplicate member name kind')
    expect((await s.stack.gateway.audit.storage.revocations.list()).length).toBe(before)
  })
})
