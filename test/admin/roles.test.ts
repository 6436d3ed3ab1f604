import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

/**
 * Every route × every kind of caller → the expected status, written here as the spec (SPEC §2 roles:
 * admin everything but deciding reviews, which needs the rule's approvers role; approver
 * reviews/grants plus reads; auditor read-only audit, principals, revocations list, config,
 * explain, health). A second test checks the table covers every route.
 */

type Who = 'none' | 'wrong' | 'admin' | 'approver' | 'auditor' | 'human-approver' | 'human-admin' | 'human-no-role'
const everyone: readonly Who[] = ['none', 'wrong', 'admin', 'approver', 'auditor', 'human-approver', 'human-admin', 'human-no-role']
/** `decide`: the approval routes, where the approvals domain also requires the rule's approvers role (default approver). */
type Allowed = 'public' | 'read' | 'approvals' | 'decide' | 'admin'

interface Row {
  readonly route: string
  readonly allowed: Allowed
  readonly ok: number
  /** A fresh target per call (a review can be approved once). */
  readonly prepare: () => Promise<{ path: string; body?: unknown }>
}

let s: AdminStack
let recordId = ''
let streamId = ''
const credentials = {} as Record<Who, string | undefined>

beforeAll(async () => {
  s = await startAdminStack()
  const token = await s.stack.mint()
  recordId = (await s.v1(token)).id
  streamId = (await s.v1(token, true)).id
  Object.assign(credentials, {
    none: undefined,
    wrong: 'sg-admin-token-0123456789abcdef-nope',
    admin: TOKENS.admin,
    approver: TOKENS.approver,
    auditor: TOKENS.auditor,
    'human-approver': await s.mintHuman({ sub: 'alice@example.com', groups: ['approver', 'engineering'] }),
    'human-admin': await s.mintHuman({ sub: 'root@example.com', groups: 'admin' }),
    'human-no-role': await s.mintHuman({ sub: 'bob@example.com', groups: ['engineering', 'Admin'] }),
  })
})
afterAll(async () => {
  await s.close()
})

const fixed = (path: string, body?: unknown) => async () => (body === undefined ? { path } : { path, body })

async function newGrant(): Promise<string> {
  const id = await s.newReview()
  const { grant } = await s.stack.gateway.audit.storage.reviews.decide(id, { decision: 'approved', approver: { id: 'setup' }, grant: { expiresAt: new Date(Date.now() + 60_000), uses: null } })
  return grant!.id
}

async function newSession(): Promise<string> {
  const secretDigest = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  const session = await s.stack.gateway.audit.storage.sessions.create({ secretDigest, issuer: 'people', subject: 'x', roles: ['auditor'], roleBasis: 'any', expiresAt: new Date(Date.now() + 60_000) })
  return session.id
}

const rows: Row[] = [
  { route: 'GET /admin/api/audit', allowed: 'read', ok: 200, prepare: fixed('/admin/api/audit?limit=5') },
  { route: 'GET /admin/api/audit/export', allowed: 'read', ok: 200, prepare: fixed('/admin/api/audit/export') },
  { route: 'GET /admin/api/audit/{id}', allowed: 'read', ok: 200, prepare: async () => ({ path: `/admin/api/audit/${recordId}` }) },
  { route: 'GET /admin/api/audit/{id}/replay', allowed: 'read', ok: 200, prepare: async () => ({ path: `/admin/api/audit/${streamId}/replay?speed=1000` }) },
  { route: 'POST /admin/api/audit/verify', allowed: 'read', ok: 200, prepare: fixed('/admin/api/audit/verify') },
  { route: 'GET /admin/api/audit/heads', allowed: 'read', ok: 200, prepare: fixed('/admin/api/audit/heads') },
  { route: 'GET /admin/api/audit/heads/latest', allowed: 'read', ok: 200, prepare: fixed('/admin/api/audit/heads/latest') },
  { route: 'GET /admin/api/revocations', allowed: 'read', ok: 200, prepare: fixed('/admin/api/revocations') },
  { route: 'POST /admin/api/revocations', allowed: 'admin', ok: 201, prepare: fixed('/admin/api/revocations', { kind: 'principal', principal: 'table:nobody' }) },
  { route: 'DELETE /admin/api/revocations/principal/{principal}', allowed: 'admin', ok: 200, prepare: fixed(`/admin/api/revocations/principal/${encodeURIComponent('table:nobody')}`) },
  { route: 'DELETE /admin/api/revocations/issuer/{issuer}', allowed: 'admin', ok: 200, prepare: fixed('/admin/api/revocations/issuer/no-such-issuer') },
  { route: 'POST /admin/api/owners', allowed: 'admin', ok: 200, prepare: fixed('/admin/api/owners', { kind: 'file', id: 'file_table', principal: 'table:nobody' }) },
  { route: 'GET /admin/api/principals', allowed: 'read', ok: 200, prepare: fixed('/admin/api/principals') },
  {
    route: 'POST /admin/api/policy/explain',
    allowed: 'read',
    ok: 200,
    prepare: fixed('/admin/api/policy/explain', { issuer: 'ci', claims: { sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42' }, request: { method: 'GET', path: '/v1/models' } }),
  },
  { route: 'GET /admin/api/config', allowed: 'read', ok: 200, prepare: fixed('/admin/api/config') },
  { route: 'GET /admin/api/health', allowed: 'read', ok: 200, prepare: fixed('/admin/api/health') },
  { route: 'GET /admin/api/reviews', allowed: 'approvals', ok: 200, prepare: fixed('/admin/api/reviews?state=pending') },
  { route: 'GET /admin/api/reviews/{id}', allowed: 'approvals', ok: 200, prepare: async () => ({ path: `/admin/api/reviews/${await s.newReview()}` }) },
  { route: 'POST /admin/api/reviews/{id}/approve', allowed: 'decide', ok: 200, prepare: async () => ({ path: `/admin/api/reviews/${await s.newReview()}/approve`, body: { reason: 'release day' } }) },
  { route: 'POST /admin/api/reviews/{id}/deny', allowed: 'decide', ok: 200, prepare: async () => ({ path: `/admin/api/reviews/${await s.newReview()}/deny`, body: {} }) },
  { route: 'GET /admin/api/grants', allowed: 'approvals', ok: 200, prepare: fixed('/admin/api/grants?active=true') },
  { route: 'DELETE /admin/api/grants/{id}', allowed: 'approvals', ok: 200, prepare: async () => ({ path: `/admin/api/grants/${await newGrant()}` }) },
  { route: 'GET /admin/api/openapi.json', allowed: 'public', ok: 200, prepare: fixed('/admin/api/openapi.json') },
  { route: 'GET /admin/api/sign-in', allowed: 'public', ok: 200, prepare: fixed('/admin/api/sign-in') },
  { route: 'GET /admin/api/session', allowed: 'read', ok: 200, prepare: fixed('/admin/api/session') },
  { route: 'POST /admin/api/session/logout', allowed: 'read', ok: 204, prepare: fixed('/admin/api/session/logout') },
  { route: 'GET /admin/api/sessions', allowed: 'admin', ok: 200, prepare: fixed('/admin/api/sessions') },
  { route: 'DELETE /admin/api/sessions/{id}', allowed: 'admin', ok: 204, prepare: async () => ({ path: `/admin/api/sessions/${await newSession()}` }) },
]

function expected(row: Row, who: Who): number {
  if (row.allowed === 'public') return row.ok
  if (who === 'none' || who === 'wrong') return 401
  const roles: Record<Exclude<Who, 'none' | 'wrong'>, readonly Allowed[]> = {
    // An admin is not an approver unless it also holds the role (docs/approvals.md, four-eyes).
    admin: ['read', 'approvals', 'admin'],
    'human-admin': ['read', 'approvals', 'admin'],
    approver: ['read', 'approvals', 'decide'],
    'human-approver': ['read', 'approvals', 'decide'],
    auditor: ['read'],
    // Role values are matched exactly: "Admin" and "engineering" give no role.
    'human-no-role': [],
  }
  return roles[who].includes(row.allowed) ? row.ok : 403
}

describe('admin API roles', () => {
  it('the table covers every route of the router, and nothing else', () => {
    expect(rows.map((r) => r.route).sort()).toEqual(s.admin.routes.map((r) => `${r.method} ${r.path}`).sort())
  })

  const cases = rows.flatMap((row) => everyone.map((who) => ({ row, who, status: expected(row, who) })))
  it.each(cases)('$row.route as $who → $status', async ({ row, who, status }) => {
    const { path, body } = await row.prepare()
    const res = await s.call(row.route.split(' ')[0]!, path, credentials[who], body)
    const text = await res.text()
    expect(res.status, text).toBe(status)
    expect(res.headers.get('cache-control')).toBe('no-store')
    if (status >= 400) {
      expect(JSON.parse(text)).toMatchObject({ type: 'error', error: { type: status === 401 ? 'authentication_error' : 'permission_error' }, request_id: expect.any(String) })
    }
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /)
    if (status === 403) expect(res.headers.get('skillgate-required-role')).toBeTruthy()
  })
})
