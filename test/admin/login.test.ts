import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { csrfHeader } from '../../src/admin/sessions.js'
import { ISSUER, defaultRules, messageBody, startStack, type Stack } from '../e2e/harness.js'
import { startLoginIdp, type LoginIdp } from '../fixtures/issuers/login-idp.js'

/**
 * Issue #17 item 1: browser sign-in with `oidc-provider` as the company IdP, through the real
 * gateway's admin listener: authorization code + PKCE, groups mapped to roles, a session in the
 * store, CSRF on decisions, and a page that says why a person in no mapped group is refused.
 */
let stack: Stack
let idp: LoginIdp
let admin = ''

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  const port = await freePort()
  const redirectUri = `http://127.0.0.1:${port}/admin/login/callback`
  idp = await startLoginIdp({
    clientId: 'skillgate-console',
    clientSecret: 'console-client-secret-0123456789',
    redirectUri,
    accounts: {
      alice: { name: 'Alice Approver', email: 'alice@corp.test', groups: ['release-managers', 'everyone'] },
      audrey: { name: 'Audrey Auditor', email: 'audrey@corp.test', groups: ['security'] },
      mallory: { name: 'Mallory', email: 'mallory@corp.test', groups: ['everyone'] },
    },
  })
  stack = await startStack({
    configure: (config) => {
      config.rules = [{ ...structuredClone(defaultRules[0]!), approval: { required: true, hold: '20s' } }]
      config.admin = {
        listen: { host: '127.0.0.1', port },
        issuers: [
          {
            id: 'corp',
            issuer: idp.issuer,
            audience: 'skillgate-console',
            algorithms: ['ES256'],
            insecureAllowHttp: true,
            login: { clientId: 'skillgate-console', clientSecret: { value: 'console-client-secret-0123456789' }, redirectUri },
            roles: { approver: ['release-managers'], auditor: ['security'] },
          },
        ],
      }
    },
  })
  admin = stack.gateway.adminUrl
})
afterAll(async () => {
  await stack?.close()
  await idp?.close()
})

/** The browser's round trip: console → IdP (sign in as `account`) → callback. */
async function signIn(account: string): Promise<Response> {
  const start = await fetch(`${admin}/admin/login/corp`, { redirect: 'manual' })
  expect(start.status).toBe(302)
  const loginCookie = start.headers.getSetCookie()[0]!.split(';')[0]!
  expect(start.headers.getSetCookie()[0]).toContain('HttpOnly')
  const back = await idp.signIn(start.headers.get('location')!, account)
  expect(back.startsWith(`${admin}/admin/login/callback?`)).toBe(true)
  return fetch(back, { redirect: 'manual', headers: { cookie: loginCookie } })
}

async function session(account: string): Promise<{ cookie: string; csrf: string }> {
  const res = await signIn(account)
  expect(res.status).toBe(303)
  expect(res.headers.get('location')).toBe('/ui/#/sso')
  const set = res.headers.getSetCookie().find((c) => c.startsWith('skillgate_session='))!
  expect(set).toMatch(/HttpOnly; SameSite=Strict/)
  const cookie = set.split(';')[0]!
  const me = (await (await fetch(`${admin}/admin/api/session`, { headers: { cookie } })).json()) as { csrfToken: string }
  return { cookie, csrf: me.csrfToken }
}

describe('console sign-in through the company IdP', () => {
  it('an approver signs in, sees the held review, approves, and the job completes; the record names review, grant and approver', async () => {
    const alice = await session('alice')
    const me = (await (await fetch(`${admin}/admin/api/session`, { headers: { cookie: alice.cookie } })).json()) as { actor: unknown; roles: string[] }
    expect(me).toMatchObject({ actor: { kind: 'oidc', id: 'oidc:corp:alice', name: 'Alice Approver', email: 'alice@corp.test' }, roles: ['approver'] })

    const token = await stack.mint()
    const job = fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    let pending: Array<{ id: string }> = []
    for (let i = 0; i < 100 && pending.length === 0; i++) {
      pending = ((await (await fetch(`${admin}/admin/api/reviews?state=pending`, { headers: { cookie: alice.cookie } })).json()) as { reviews: Array<{ id: string }> }).reviews
      if (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const reviewId = pending[0]!.id
    const approve = await fetch(`${admin}/admin/api/reviews/${reviewId}/approve`, { method: 'POST', headers: { cookie: alice.cookie, [csrfHeader]: alice.csrf, origin: admin, 'sec-fetch-site': 'same-origin' } })
    expect(approve.status).toBe(200)
    const done = await job
    expect(done.status).toBe(200)
    const record = await stack.gateway.audit.storage.audit.get(done.headers.get('skillgate-request-id')!)
    const granted = record?.reasons.find((r) => r.code === 'approval-granted')
    expect(granted?.detail).toContain(reviewId)
    expect(granted?.detail).toContain('oidc:corp:alice')
    expect(granted?.detail).toMatch(/grt_/)
  })

  it('an auditor can read but not approve', async () => {
    const audrey = await session('audrey')
    expect((await fetch(`${admin}/admin/api/audit?limit=1`, { headers: { cookie: audrey.cookie } })).status).toBe(200)
    const { review } = await stack.gateway.audit.storage.reviews.create({
      principal: 'ci:1234567/99',
      rule: 'ci-app',
      fingerprint: crypto.randomUUID(),
      summary: { endpoint: 'messages', model: null, skills: [], tools: [], requestId: 'req-x' },
      requester: { issuer: ISSUER, subject: 'repo:acme/app:ref:refs/heads/main' },
      expiresAt: new Date(Date.now() + 60_000),
    })
    const res = await fetch(`${admin}/admin/api/reviews/${review.id}/approve`, { method: 'POST', headers: { cookie: audrey.cookie, [csrfHeader]: audrey.csrf } })
    expect(res.status).toBe(403)
  })

  it('refuses a person in no mapped group with a page that says why, and opens no session', async () => {
    const res = await signIn('mallory')
    expect(res.status).toBe(403)
    expect(res.headers.getSetCookie().some((c) => c.startsWith('skillgate_session='))).toBe(false)
    const page = await res.text()
    expect(page).toContain('none of your groups')
    expect(page).toContain('admin.issuers[corp].roles')
  })

  it('refuses a callback it did not start (no or forged login cookie)', async () => {
    const res = await fetch(`${admin}/admin/login/callback?code=x&state=y`, { redirect: 'manual', headers: { cookie: 'skillgate_login=e30.forged' } })
    expect(res.status).toBe(400)
  })

  it('answers 400, not 502, when what the browser brought back ended the sign-in', async () => {
    const begin = async () => {
      const start = await fetch(`${admin}/admin/login/corp`, { redirect: 'manual' })
      const location = new URL(start.headers.get('location')!)
      return { cookie: start.headers.getSetCookie()[0]!.split(';')[0]!, location, state: location.searchParams.get('state')! }
    }
    const expectRefused = async (res: Response, why: string) => {
      expect(res.status).toBe(400)
      expect(await res.text()).toContain(why)
    }
    // Another sign-in's answer (its state) with this browser's login cookie.
    const [a, b] = [await begin(), await begin()]
    const backB = await idp.signIn(b.location.href, 'alice')
    await expectRefused(await fetch(backB, { redirect: 'manual', headers: { cookie: a.cookie } }), 'does not belong to the sign-in started in this browser')
    // The same answer twice: the code is spent.
    expect((await fetch(backB, { redirect: 'manual', headers: { cookie: b.cookie } })).status).toBe(303)
    await expectRefused(await fetch(backB, { redirect: 'manual', headers: { cookie: b.cookie } }), 'already used or has expired')
    // The person declined at the identity provider.
    const c = await begin()
    await expectRefused(await fetch(`${admin}/admin/login/callback?error=access_denied&state=${c.state}&iss=${encodeURIComponent(idp.issuer)}`, { redirect: 'manual', headers: { cookie: c.cookie } }), 'refused the sign-in (access_denied)')
    await expectRefused(await fetch(`${admin}/admin/login/%E0%A4%A`, { redirect: 'manual' }), 'malformed')
  })

  it('signs out on every replica: the session is gone from the store', async () => {
    const alice = await session('alice')
    const out = await fetch(`${admin}/admin/api/session/logout`, { method: 'POST', headers: { cookie: alice.cookie, [csrfHeader]: alice.csrf } })
    expect(out.status).toBe(204)
    expect((await fetch(`${admin}/admin/api/session`, { headers: { cookie: alice.cookie } })).status).toBe(401)
  })
})
