import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISSUER } from '../e2e/harness.js'
import { HUMAN_ISSUER, TOKENS, startAdminStack, type AdminStack } from './helpers.js'

let s: AdminStack

beforeAll(async () => {
  s = await startAdminStack()
})
afterAll(async () => {
  await s.close()
})

interface Decision {
  review: { id: string; state: string; approver: string; reason: string | null; grantId: string | null }
  grant: { id: string; principal: string; rule: string; expiresAt: string; usesLeft: number | null } | null
}

describe('admin API: reviews and grants', () => {
  it('lists the pending queue and shows one review', async () => {
    const id = await s.newReview({ principal: 'ci:1234567/50' })
    const list = (await (await s.call('GET', '/admin/api/reviews?state=pending&principal=ci%3A1234567%2F50', TOKENS.approver)).json()) as { reviews: { id: string }[] }
    expect(list.reviews.map((r) => r.id)).toEqual([id])
    const one = await s.call('GET', `/admin/api/reviews/${id}`, TOKENS.approver)
    expect(await one.json()).toMatchObject({ id, state: 'pending', principal: 'ci:1234567/50' })
    expect((await s.call('GET', '/admin/api/reviews/rev_01JUNKJUNKJUNKJUNKJUNKJUNK', TOKENS.approver)).status).toBe(404)
  })

  it('approves: the review records the approver and a grant is created (1 h without approval.grantTtl)', async () => {
    const id = await s.newReview()
    const res = await s.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.approver, { reason: 'release day' })
    const body = (await res.json()) as Decision
    expect(res.status).toBe(200)
    expect(body.review).toMatchObject({ id, state: 'approved', approver: 'admin.tokens[1]', reason: 'release day', grantId: body.grant!.id })
    expect(body.grant).toMatchObject({ principal: 'ci:1234567/42', rule: 'ci-app', usesLeft: null })
    expect(Date.parse(body.grant!.expiresAt) - Date.now()).toBeGreaterThan(3_500_000)
    expect(s.actions.at(-1)).toMatchObject({ action: 'review.approve', actor: { kind: 'token', id: 'admin.tokens[1]' }, target: { review: id, grant: body.grant!.id }, reason: 'release day' })
  })

  it('refuses to decide a review twice (409)', async () => {
    const id = await s.newReview()
    expect((await s.call('POST', `/admin/api/reviews/${id}/deny`, TOKENS.approver, { reason: 'not today' })).status).toBe(200)
    const again = await s.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.approver)
    expect(again.status).toBe(409)
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain('already denied')
  })

  it('passes the human caller\'s iss and sub on, so the store refuses self-approval (403)', async () => {
    // The same identity provider issued the workload's token and the approver's: same (iss, sub).
    const id = await s.newReview({ requester: { issuer: HUMAN_ISSUER, subject: 'mallory@example.com' } })
    const self = await s.mintHuman({ sub: 'mallory@example.com', groups: ['approver'] })
    const res = await s.call('POST', `/admin/api/reviews/${id}/approve`, self)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('permission_error')
    const other = await s.mintHuman({ sub: 'alice@example.com', groups: ['approver'], name: 'Alice Example', email: 'alice@example.com' })
    expect((await s.call('POST', `/admin/api/reviews/${id}/approve`, other)).status).toBe(200)
    // Who did it: the person, by id, name, e-mail and their token's iss and sub.
    expect(s.actions.at(-1)?.actor).toEqual({ kind: 'oidc', id: 'oidc:people:alice@example.com', name: 'Alice Example', email: 'alice@example.com', issuer: HUMAN_ISSUER, subject: 'alice@example.com' })
    // The same subject at another issuer is another identity.
    const elsewhere = await s.newReview({ requester: { issuer: ISSUER, subject: 'mallory@example.com' } })
    expect((await s.call('POST', `/admin/api/reviews/${elsewhere}/deny`, self)).status).toBe(200)
  })

  it('lists grants (active only) and revokes one at once', async () => {
    const id = await s.newReview({ principal: 'ci:1234567/51' })
    const { grant } = (await (await s.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.approver)).json()) as Decision
    const active = (await (await s.call('GET', '/admin/api/grants?active=true&principal=ci%3A1234567%2F51', TOKENS.approver)).json()) as { grants: { id: string }[] }
    expect(active.grants.map((g) => g.id)).toEqual([grant!.id])
    const revoked = await s.call('DELETE', `/admin/api/grants/${grant!.id}`, TOKENS.approver)
    expect(await revoked.json()).toMatchObject({ id: grant!.id, revokedBy: 'admin.tokens[1]' })
    const after = (await (await s.call('GET', '/admin/api/grants?active=true&principal=ci%3A1234567%2F51', TOKENS.approver)).json()) as { grants: unknown[] }
    expect(after.grants).toEqual([])
    expect(s.actions.at(-1)).toMatchObject({ action: 'grant.revoke', target: { grant: grant!.id } })
    expect((await s.call('DELETE', '/admin/api/grants/grt_01JUNKJUNKJUNKJUNKJUNKJUNK', TOKENS.approver)).status).toBe(404)
  })

  it('leaves deciding to the approver role by default: an admin token alone is refused (403)', async () => {
    const id = await s.newReview()
    const res = await s.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.admin)
    expect(res.status).toBe(403)
    expect(res.headers.get('skillgate-required-role')).toBe('approver')
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('needs one of the roles approver')
  })

  it('applies a rule\'s approval settings: approvers roles, grantTtl and uses', async () => {
    const strict = await startAdminStack({
      // approval.required is refused by config validation until approvals are wired; the domain reads it already.
      adminConfig: (config) => ({ ...config, rules: config.rules.map((rule) => ({ ...rule, approval: { required: true, approvers: ['admin'], grantTtl: 120_000, uses: 3 } })) }),
    })
    try {
      const id = await strict.newReview()
      const refused = await strict.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.approver)
      expect(refused.status).toBe(403)
      expect(refused.headers.get('skillgate-required-role')).toBe('admin')
      const ok = (await (await strict.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.admin)).json()) as Decision
      expect(ok.grant).toMatchObject({ usesLeft: 3 })
      expect(Date.parse(ok.grant!.expiresAt) - Date.now()).toBeLessThanOrEqual(120_000)
    } finally {
      await strict.close()
    }
  })

  it('validates queries and bodies', async () => {
    expect((await s.call('GET', '/admin/api/reviews?state=maybe', TOKENS.approver)).status).toBe(400)
    expect((await s.call('GET', '/admin/api/grants?active=yes', TOKENS.approver)).status).toBe(400)
    const id = await s.newReview()
    expect((await s.call('POST', `/admin/api/reviews/${id}/approve`, TOKENS.approver, { reason: 7 })).status).toBe(400)
  })
})
