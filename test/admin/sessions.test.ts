import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IncomingMessage } from 'node:http'
import { csrfHeader, csrfTokenFor, digestOf, newSessionSecret, roleBasisOf, sessionAuthFor, sessionCaller, sessionCookieName } from '../../src/admin/sessions.js'
import type { Config } from '../../src/config/load.js'
import { ISSUER, defaultRules, startStack, type Stack } from '../e2e/harness.js'

/**
 * Console sessions (issue #17 item 1, the part after sign-in): cookie authentication from the
 * store, CSRF on every state-changing call, roles, sign-out and revocation. Sessions are opened
 * directly in the store here, as the sign-in callback would.
 */
let stack: Stack
const HUMAN_ISS = 'https://login.corp.test'

beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.rules = [{ ...structuredClone(defaultRules[0]!), approval: { required: true } }]
      config.admin = { issuers: [{ id: 'corp', issuer: HUMAN_ISS, audience: 'skillgate-console', algorithms: ['ES256'], jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'iy4klegHiu9A5qxX1FgrTJiYFF5YxQT19s1N8tEjkBc', y: 'Sl_E_en929rn89of4OB0f_u_oBWQPvdfiEfTNiHR7YQ' }] }, roles: { approver: ['release-managers'] } }] }
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

const corp = () => stack.gateway.config.admin.issuers[0]!

/** A session as the sign-in callback opens it, its roles derived under `basisOf` (today's corp entry by default). */
async function signedIn(subject: string, roles: string[], basisOf = corp()): Promise<{ cookie: string; csrf: string; secret: string }> {
  const secret = newSessionSecret()
  const roleBasis = roleBasisOf(basisOf)
  await stack.gateway.audit.storage.sessions.create({ secretDigest: digestOf(secret), issuer: 'corp', subject, name: `${subject} Example`, email: `${subject}@corp.test`, roles, roleBasis, expiresAt: new Date(Date.now() + 3_600_000) })
  return { cookie: `${sessionCookieName}=${secret}`, csrf: csrfTokenFor(secret), secret }
}

const api = (path: string, init: RequestInit = {}) => fetch(`${stack.url}/admin/api${path}`, init)
const origin = () => new URL(stack.url).origin

async function pendingReview(): Promise<string> {
  const { review } = await stack.gateway.audit.storage.reviews.create({
    principal: 'ci:1234567/42',
    rule: 'ci-app',
    fingerprint: crypto.randomUUID(),
    summary: { endpoint: 'messages', model: 'claude-sonnet-4-6', skills: [], tools: [], requestId: 'req-1' },
    requester: { issuer: ISSUER, subject: 'repo:acme/app:ref:refs/heads/main' },
    expiresAt: new Date(Date.now() + 600_000),
  })
  return review.id
}

describe('console sessions', () => {
  it('authenticates by the session cookie and hands the console its CSRF token', async () => {
    const alice = await signedIn('alice', ['approver'])
    const res = await api('/session', { headers: { cookie: alice.cookie } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ actor: { kind: 'oidc', id: 'oidc:corp:alice', name: 'alice Example', email: 'alice@corp.test' }, roles: ['approver'], csrfToken: alice.csrf })
    expect((await api('/session', { headers: { cookie: `${sessionCookieName}=${'x'.repeat(43)}` } })).status).toBe(401)
  })

  it('refuses a state-changing call without the CSRF token, from another site, or with another Origin', async () => {
    const alice = await signedIn('alice2', ['approver'])
    const id = await pendingReview()
    const approve = (headers: Record<string, string>) => api(`/reviews/${id}/approve`, { method: 'POST', headers: { cookie: alice.cookie, ...headers } })
    const refused = [
      await approve({}),
      await approve({ [csrfHeader]: 'wrong' }),
      // What a cross-site form post looks like to the server: the browser says where it came from.
      await approve({ [csrfHeader]: alice.csrf, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }),
      await approve({ [csrfHeader]: alice.csrf, origin: 'https://evil.example' }),
      await approve({ [csrfHeader]: alice.csrf, origin: 'null' }),
    ]
    for (const res of refused) {
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('CSRF')
    }
    expect((await stack.gateway.audit.storage.reviews.get(id))?.state).toBe('pending')
    const ok = await approve({ [csrfHeader]: alice.csrf, 'sec-fetch-site': 'same-origin', origin: origin() })
    expect(ok.status).toBe(200)
    expect((await stack.gateway.audit.storage.reviews.get(id))?.approver).toBe('oidc:corp:alice2')
  })

  it('lets an auditor read but not approve', async () => {
    const audrey = await signedIn('audrey', ['auditor'])
    expect((await api('/audit?limit=1', { headers: { cookie: audrey.cookie } })).status).toBe(200)
    const id = await pendingReview()
    const res = await api(`/reviews/${id}/approve`, { method: 'POST', headers: { cookie: audrey.cookie, [csrfHeader]: audrey.csrf } })
    expect(res.status).toBe(403)
  })

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const bob = await signedIn('bob', ['auditor'])
    const out = await api('/session/logout', { method: 'POST', headers: { cookie: bob.cookie, [csrfHeader]: bob.csrf } })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/^skillgate_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict/)
    expect((await api('/session', { headers: { cookie: bob.cookie } })).status).toBe(401)
  })

  it('lists sessions for admins and revokes one at once', async () => {
    const admin = await signedIn('root', ['admin'])
    const carol = await signedIn('carol', ['auditor'])
    const listed = (await (await api('/sessions', { headers: { cookie: admin.cookie } })).json()) as { sessions: Array<{ id: string; subject: string }> }
    const target = listed.sessions.find((s) => s.subject === 'carol')
    expect(target).toBeDefined()
    expect(JSON.stringify(listed)).not.toContain(carol.cookie.split('=')[1])
    expect((await api('/sessions', { headers: { cookie: carol.cookie } })).status).toBe(403)
    expect((await api(`/sessions/${target!.id}`, { method: 'DELETE', headers: { cookie: admin.cookie, [csrfHeader]: admin.csrf } })).status).toBe(204)
    expect((await api('/session', { headers: { cookie: carol.cookie } })).status).toBe(401)
  })

  it('never logs a session cookie', async () => {
    const dana = await signedIn('dana', ['auditor'])
    await api('/session', { headers: { cookie: dana.cookie } })
    expect(stack.logs.join('')).not.toContain(dana.cookie.split('=')[1])
  })

  it('ends a session whose issuer was removed or now grants roles differently, at its next use', async () => {
    const config = stack.gateway.config
    const withCorp = (change: Partial<Config['admin']['issuers'][number]> | undefined): Config => ({
      ...config,
      admin: { ...config.admin, issuers: change === undefined ? [] : [{ ...corp(), ...change }] },
    })
    const get = { method: 'GET', headers: {} } as IncomingMessage
    const changes = {
      'the issuer removed': undefined,
      'a role map that moved the group': { roles: { admin: ['release-managers'] } },
      'another role claim': { roleClaim: 'roles' },
      'another iss': { issuer: 'https://login.other.test' },
    }
    for (const [what, change] of Object.entries(changes)) {
      const erin = await signedIn(`erin-${what}`, ['approver'])
      const store = stack.gateway.audit.storage.sessions
      // Unchanged settings: the session carries its roles.
      expect(await sessionCaller(sessionAuthFor(config, store), get, erin.secret), what).toMatchObject({ roles: new Set(['approver']) })
      expect(await sessionCaller(sessionAuthFor(withCorp(change), store), get, erin.secret), what).toBeUndefined()
      // Ended for good: putting the old settings back does not revive it.
      expect(await sessionCaller(sessionAuthFor(config, store), get, erin.secret), what).toBeUndefined()
      expect((await store.list()).some((s) => s.subject === `erin-${what}`), what).toBe(false)
    }
  })

  it('refuses, over HTTP, a session opened under settings no longer in force', async () => {
    const frank = await signedIn('frank', ['approver'], { ...corp(), roles: { approver: ['everyone'] } })
    expect((await api('/session', { headers: { cookie: frank.cookie } })).status).toBe(401)
    const listed = (await (await api('/sessions', { headers: { cookie: (await signedIn('root2', ['admin'])).cookie } })).json()) as { sessions: Array<Record<string, unknown>> }
    expect(listed.sessions.some((s) => s.subject === 'frank')).toBe(false)
    expect(listed.sessions.every((s) => !('roleBasis' in s))).toBe(true)
  })
})
