import { afterEach, describe, expect, it } from 'vitest'
import { openAdminActions } from '../../src/wiring/admin-actions.js'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

/**
 * Issue #16 item 5: an admin change has its opening audit record committed before it is applied
 * and its completion after; when the opening cannot be committed the API answers 503 and nothing
 * changes.
 */
let s: AdminStack | undefined
afterEach(async () => {
  await s?.close()
  s = undefined
})

const listed = async (stack: AdminStack) =>
  ((await (await stack.call('GET', '/admin/api/revocations', TOKENS.auditor)).json()) as { revocations: Array<{ subject: string }> }).revocations.map((r) => r.subject)

describe('admin actions in audit order', () => {
  it('refuses with 503 GW_ADMIN_AUDIT_UNAVAILABLE and changes nothing when the opening cannot be committed', async () => {
    s = await startAdminStack({ deps: { openAdminAction: () => Promise.reject(new Error('audit store down')) } })
    const res = await s.call('POST', '/admin/api/revocations', TOKENS.admin, { kind: 'principal', principal: 'ci:1234567/90' })
    expect(res.status).toBe(503)
    const body = (await res.json()) as { type: string; error: { type: string; message: string } }
    expect(body.error.message).toContain('the admin action was not applied')
    expect(JSON.stringify(body)).not.toContain('audit store down')
    expect(await listed(s)).not.toContain('ci:1234567/90')
    expect(s.actions).toEqual([])
    expect((await s.call('DELETE', '/admin/api/grants/01ARZ3NDEKTSV4RRFFQ69G5FAV', TOKENS.admin)).status).toBe(503)
  })

  it('commits the opening before the change and the completion after it', async () => {
    const seen: string[] = []
    const revoked = async () => (await s!.stack.gateway.audit.storage.revocations.snapshot()).principals.has('ci:1234567/91')
    s = await startAdminStack({
      deps: {
        openAdminAction: async (event) => {
          seen.push(`open ${event.action} (applied: ${await revoked()})`)
          return async ({ ok }) => void seen.push(`close ok=${ok} (applied: ${await revoked()})`)
        },
      },
    })
    expect((await s.call('POST', '/admin/api/revocations', TOKENS.admin, { kind: 'principal', principal: 'ci:1234567/91' })).status).toBe(201)
    expect(seen).toEqual(['open revocation.principal (applied: false)', 'close ok=true (applied: true)'])
    expect(s.actions.at(-1)).toMatchObject({ action: 'revocation.principal', audited: true, target: { principal: 'ci:1234567/91', before: expect.any(String) } })
    // A change that fails after the opening closes its record as failed.
    seen.length = 0
    expect((await s.call('DELETE', '/admin/api/grants/01ARZ3NDEKTSV4RRFFQ69G5FAV', TOKENS.admin)).status).toBe(404)
    expect(seen).toEqual([expect.stringMatching(/^open grant.revoke/), expect.stringMatching(/^close ok=false/)])
  })

  it('writes the record through the gateway audit writer', async () => {
    const holder: { stack?: AdminStack } = {}
    s = await startAdminStack({ deps: { openAdminAction: (event) => openAdminActions(holder.stack!.stack.gateway.audit.writer!)(event) } })
    holder.stack = s
    expect((await s.call('POST', '/admin/api/revocations', TOKENS.admin, { kind: 'issuer', issuer: 'ci' })).status).toBe(201)
    const { records } = await s.stack.gateway.audit.storage.audit.list({ limit: 10 })
    const record = records.find((r) => r.endpoint === 'admin')
    expect(record).toMatchObject({ principal: 'admin.tokens[0]', outcome: 'completed', reasons: [expect.objectContaining({ code: 'revocation.issuer' })] })
  })
})
