import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRules, messageBody, startStack, type Stack } from '../e2e/harness.js'
import { startLoginIdp, type LoginIdp } from '../fixtures/issuers/login-idp.js'
import { CHROMIUM, browserAvailability, openBrowser, type Browser } from './console-stack.js'

/**
 * Issue #17 item 1 in headless Chromium, with `oidc-provider` as the company IdP: an approver signs
 * in, sees the held review, approves, and the job's call completes; a form on another site cannot
 * make the signed-in browser decide anything; sign-out ends the session in the store. The browser
 * reaches nothing but 127.0.0.1 (the IdP's dev pages link a web font: refused).
 */
const availability = browserAvailability()
if (availability === 'fail') {
  describe('single sign-on in a browser', () => {
    it('needs Chromium', () => {
      throw new Error(`Chromium is not installed at ${CHROMIUM}`)
    })
  })
}

async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe.skipIf(availability !== 'ready')('single sign-on in a browser', () => {
  let stack: Stack
  let idp: LoginIdp
  let browser: Browser
  let page: Page
  let evil: Server
  let admin = ''

  beforeAll(async () => {
    const port = await freePort()
    const redirectUri = `http://127.0.0.1:${port}/admin/login/callback`
    idp = await startLoginIdp({
      clientId: 'skillgate-console',
      clientSecret: 'console-client-secret-0123456789',
      redirectUri,
      accounts: { alice: { name: 'Alice Approver', email: 'alice@corp.test', groups: ['release-managers'] } },
    })
    stack = await startStack({
      configure: (config) => {
        config.rules = [{ ...structuredClone(defaultRules[0]!), approval: { required: true, hold: '30s' } }]
        config.admin = {
          listen: { host: '127.0.0.1', port },
          issuers: [{ id: 'corp', issuer: idp.issuer, audience: 'skillgate-console', algorithms: ['ES256'], insecureAllowHttp: true, login: { clientId: 'skillgate-console', clientSecret: { value: 'console-client-secret-0123456789' }, redirectUri }, roles: { approver: ['release-managers'] } }],
        }
      },
    })
    admin = stack.gateway.adminUrl
    browser = await openBrowser()
    page = browser.page
    await browser.context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()))
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
    await idp?.close()
    await new Promise((resolve) => (evil ? evil.close(resolve) : resolve(undefined)))
  })

  it('an approver signs in at the IdP, sees the held review, approves it, and the job completes', async () => {
    await page.goto(`${admin}/ui/#/sign-in`)
    await page.getByRole('link', { name: 'Sign in with corp' }).click()
    await page.locator('input[name=login]').fill('alice')
    await page.locator('input[name=password]').fill('any')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor()
    // The session cookie is HttpOnly: the page cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('')

    const token = await stack.mint()
    const job = fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    await page.getByRole('link', { name: 'Reviews' }).click()
    const row = page.locator('#reviews-table tbody tr').first()
    await row.waitFor({ timeout: 5_000 })
    const reviewId = (await row.getAttribute('data-id'))!
    await page.locator(`button[data-action=approve]`).first().click()
    await page.locator('#review-status').filter({ hasText: `Approved ${reviewId}` }).waitFor()
    const done = await job
    expect(done.status).toBe(200)
    expect((await stack.gateway.audit.storage.reviews.get(reviewId))).toMatchObject({ approver: 'oidc:corp:alice', approverName: 'Alice Approver' })
    // The review names the person, not only the IdP's opaque id.
    await page.goto(`${admin}/ui/#/reviews/${reviewId}`)
    await page.getByText('by Alice Approver (oidc:corp:alice)').waitFor({ timeout: 5_000 })
    await browser.shot('sso-approved')
  })

  it('refuses a cross-site form post made with the signed-in browser', async () => {
    const { review } = await stack.gateway.audit.storage.reviews.create({
      principal: 'ci:1234567/77',
      rule: 'ci-app',
      fingerprint: crypto.randomUUID(),
      summary: { endpoint: 'messages', model: null, skills: [], tools: [], requestId: 'req-evil' },
      requester: { issuer: 'https://ci.skillgate.test', subject: 'repo:acme/app:ref:refs/heads/main' },
      expiresAt: new Date(Date.now() + 60_000),
    })
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(`<form method="post" action="${admin}/admin/api/reviews/${review.id}/deny"><input name="reason" value="gotcha"></form><script>document.forms[0].submit()</script>`)
    })
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
    const denied = page.waitForResponse((res) => res.url().includes('/deny'), { timeout: 10_000 })
    await page.goto(`http://127.0.0.1:${(evil.address() as { port: number }).port}/`)
    const res = await denied
    expect(res.status()).toBe(403)
    expect(await res.text()).toContain('CSRF')
    expect((await stack.gateway.audit.storage.reviews.get(review.id))?.state).toBe('pending')
  })

  it('signs out: the session is gone from the store, so no replica serves it', async () => {
    await page.goto(`${admin}/ui/#/audit`)
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor()
    expect((await stack.gateway.audit.storage.sessions.list()).length).toBe(1)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor()
    expect(await stack.gateway.audit.storage.sessions.list()).toEqual([])
  })
})
