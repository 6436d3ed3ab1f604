import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, AUDITOR_TOKEN, inPage, CHROMIUM, browserAvailability, jobCall, openBrowser, signIn, startConsoleStack, type Browser, type ConsoleStack } from './console-stack.js'

/**
 * The console's write side in headless Chromium: a held job appears in the reviews queue by itself,
 * is approved from the keyboard and its call completes; the grant it created is revoked; a
 * principal is revoked and lifted, with the data plane following each change; a token without
 * the approver role is told why it cannot see the queue.
 */

const availability = browserAvailability()

if (availability === 'fail') {
  describe('reviews, grants and revocations in a browser', () => {
    it('needs Chromium', () => {
      throw new Error(`Chromium is not installed at ${CHROMIUM}; CI must install it (apt-get install -y chromium in .ci/run)`)
    })
  })
}

describe.skipIf(availability !== 'ready')('reviews, grants and revocations in a browser', () => {
  let stack: ConsoleStack
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    stack = await startConsoleStack()
    browser = await openBrowser()
    page = browser.page
    page.on('dialog', (dialog) => void dialog.accept())
    await signIn(page, stack.origin, ADMIN_TOKEN)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  it('shows a held request live, approves it by keyboard, and the job’s call completes', async () => {
    await page.getByRole('link', { name: 'Reviews' }).click()
    await page.locator('#review-count').filter({ hasText: 'No review is waiting' }).waitFor()
    const held = jobCall(stack, 'held', { stream: true, messages: [{ role: 'user', content: 'release notes MOCK:PII' }] })
    // No reload: the queue polls and the row arrives by itself.
    const row = page.locator('#reviews-table tbody tr').first()
    await row.waitFor({ timeout: 5_000 })
    const reviewId = (await row.getAttribute('data-id'))!
    expect(reviewId).toMatch(/^rev_/)
    expect(await row.textContent()).toContain('ci:1234567/held')
    expect(await page.locator('#pending-count').textContent()).toBe('1')
    await browser.shot('05-reviews-pending')

    await page.locator(`#reason-${reviewId}`).focus()
    await page.keyboard.type('release day')
    await page.keyboard.press('Tab')
    expect(await inPage(page, `document.activeElement?.getAttribute('data-action')`)).toBe('approve')
    await page.keyboard.press('Enter')
    await page.locator('#review-status').filter({ hasText: `Approved ${reviewId}: grant grt_` }).waitFor()

    const reply = await held
    expect(reply.status).toBe(200)
    expect(reply.text).toContain('event: message_stop')
    expect(reply.text).toContain('[REDACTED:email]')
    await page.locator(`tr[data-id="${reviewId}"]`).waitFor({ state: 'detached', timeout: 5_000 })
    await page.locator('#pending-count').waitFor({ state: 'hidden' })

    await page.getByLabel('State').selectOption('approved')
    await page.getByRole('button', { name: 'Show' }).click()
    const decided = page.locator(`tr[data-id="${reviewId}"]`)
    await decided.waitFor()
    expect(await decided.textContent()).toMatch(/approved[\s\S]*by admin\.tokens\[0\][\s\S]*release day/)
    await browser.shot('06-reviews-approved')
  })

  it('lists the grant the approval created and revokes it', async () => {
    await page.getByRole('link', { name: 'Grants' }).click()
    const row = page.locator('#grants-table tbody tr').filter({ hasText: 'ci:1234567/held' })
    await row.waitFor()
    expect(await row.textContent()).toContain('active')
    const grantId = (await row.getAttribute('data-id'))!
    await row.getByRole('button', { name: `Revoke grant ${grantId}` }).click()
    await page.locator('#grant-status').filter({ hasText: `Grant ${grantId} revoked.` }).waitFor()
    await page.locator(`tr[data-id="${grantId}"]`).filter({ hasText: 'revoked' }).waitFor()
    await browser.shot('07-grants')
  })

  it('opens a review from a notification link (its grant revoked, the job asks again); denying it ends the held call with 403', async () => {
    const held = jobCall(stack, 'held', { model: 'claude-haiku-4-5' })
    let reviewId: string | undefined
    await expect
      .poll(async () => {
        const res = await fetch(`${stack.url}/admin/api/reviews?state=pending`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
        reviewId = ((await res.json()) as { reviews: { id: string }[] }).reviews[0]?.id
        return reviewId
      })
      .toBeDefined()
    // The link format of src/notify: <gateway>/ui/reviews/<id>.
    await page.goto(`${stack.origin}/ui/reviews/${reviewId}`)
    await page.getByRole('heading', { name: `Review ${reviewId}` }).waitFor()
    expect(page.url()).toContain(`/ui/#/reviews/${reviewId}`)
    expect(await page.locator('main').textContent()).toContain('claude-haiku-4-5')
    await page.getByLabel(`Reason for ${reviewId}`).fill('not today')
    await page.getByRole('button', { name: `Deny ${reviewId} (ci:1234567/held)` }).click()
    await page.locator('#review-status').filter({ hasText: `Denied ${reviewId}.` }).waitFor()
    const reply = await held
    expect(reply.status).toBe(403)
    expect(reply.text).toContain('permission_error')
    await page.locator('main .tag.denied').waitFor()
    await browser.shot('08-review-denied')
  })

  it('revokes a principal (the data plane refuses it at once) and lifts it', async () => {
    const token = await stack.token('app')
    expect((await jobCall(stack, 'app', {}, token)).status).toBe(200)
    await page.getByRole('link', { name: 'Revocations' }).click()
    await page.getByLabel('Principal', { exact: true }).fill('ci:1234567/42')
    await page.getByLabel('Reason', { exact: true }).first().fill('leaked in a log')
    await page.getByRole('button', { name: 'Revoke a principal' }).click()
    const row = page.locator('#revocations-table tbody tr').filter({ hasText: 'ci:1234567/42' })
    await row.waitFor()
    expect(await row.textContent()).toContain('leaked in a log')
    expect((await jobCall(stack, 'app', {}, token)).status, 'revoked at once').toBe(401)
    await browser.shot('09-revocations')
    await row.getByRole('button', { name: 'Lift ci:1234567/42' }).click()
    await page.getByText('Nothing is revoked.').waitFor()
    expect((await jobCall(stack, 'app', {}, token)).status, 'lifted').toBe(200)
  })

  it('tells a token without the approver role why the queue is closed to it', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('Signed out; the token was removed from this tab.').waitFor()
    expect(await inPage(page, 'sessionStorage.length')).toBe(0)
    await signIn(page, stack.origin, AUDITOR_TOKEN)
    await page.getByRole('link', { name: 'Reviews' }).click()
    await page.getByRole('alert').filter({ hasText: 'lacks the role' }).waitFor()
    expect(await page.getByRole('alert').textContent()).toContain('approver')
  })

  it('raised no CSP violation and no script error', () => {
    // The auditor's 403 on the queue is logged by Chromium as a failed resource; that is expected.
    expect(browser.problems.filter((p) => !p.startsWith('Failed to load resource'))).toEqual([])
  })
})
