import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, CHROMIUM, browserAvailability, inPage, jobCall, openBrowser, signIn, startConsoleStack, type Browser, type ConsoleStack } from './console-stack.js'

/**
 * A new operator's first hour in the console (issue #17): the explain page's first example is
 * allowed by the running policy; a held-then-approved call shows the job's repository, workflow and
 * run on its review, and its record links back to the review; the admin action that approved it is
 * not described as a refused call; token times read as UTC; a used-up grant offers no Revoke;
 * dates are typed in UTC like they are shown; the audit table does not widen a phone's page.
 */

const availability = browserAvailability()

if (availability === 'fail') {
  describe('the first hour in a browser', () => {
    it('needs Chromium', () => {
      throw new Error(`Chromium is not installed at ${CHROMIUM}; CI must install it (apt-get install -y chromium in .ci/run)`)
    })
  })
}

describe.skipIf(availability !== 'ready')('the first hour in a browser', () => {
  let stack: ConsoleStack
  let browser: Browser
  let page: Page
  let reviewId: string
  let approvedCall: string

  beforeAll(async () => {
    stack = await startConsoleStack()
    browser = await openBrowser()
    page = browser.page
    await signIn(page, stack.origin, ADMIN_TOKEN)
    // A held job with CI claims; approved through the admin API, as the CLI would.
    const token = await stack.token('once', { repository: 'acme/once', workflow: 'release', run_id: '4242', run_attempt: '1' })
    const held = jobCall(stack, 'once', {}, token)
    const poll = async (): Promise<string> => {
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${stack.url}/admin/api/reviews?state=pending`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
        const { reviews } = (await res.json()) as { reviews: { id: string; rule: string }[] }
        const found = reviews.find((r) => r.rule === 'once')
        if (found) return found.id
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error('the held call opened no review')
    }
    reviewId = await poll()
    const approved = await fetch(`${stack.url}/admin/api/reviews/${reviewId}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'first hour' }),
    })
    expect(approved.status).toBe(200)
    const reply = await held
    expect(reply.status).toBe(200)
    approvedCall = reply.requestId!
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  it('prefills Policy explain with an example the running policy allows', async () => {
    await page.goto(`${stack.origin}/ui/#/explain`)
    await page.getByRole('heading', { name: 'Policy explain' }).waitFor()
    await expect.poll(() => page.getByLabel('Token claims (JSON)').inputValue()).toContain('"repository_owner_id": "1234567"')
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.locator('#explain-result').filter({ hasText: 'Decision: allow' }).waitFor()
    expect(await page.locator('#explain-result').textContent()).toContain('expect: { decision: allow, rule: ci-app }')
  })

  it('shows the job\'s repository, workflow and run on its review, linked to the call and its grant', async () => {
    await page.goto(`${stack.origin}/ui/#/reviews/${reviewId}`)
    const facts = page.locator('dl.facts')
    await facts.filter({ hasText: 'acme/once' }).waitFor()
    const text = await facts.textContent()
    expect(text).toMatch(/repository\s*acme\/once/)
    expect(text).toMatch(/workflow\s*release/)
    expect(text).toMatch(/run\s*4242 \(attempt 1\)/)
    expect(text).toMatch(/grant\s*grt_/)
    await page.goto(`${stack.origin}/ui/#/reviews?state=all`)
    const row = page.locator(`#reviews-table tr[data-id="${reviewId}"]`)
    await row.waitFor()
    expect(await row.textContent()).toContain('acme/once · workflow release · run 4242 (attempt 1)')
  })

  it('records the approved call as approval_required with its review, linked back, and token times in UTC', async () => {
    await page.goto(`${stack.origin}/ui/#/audit/${approvedCall}`)
    await page.getByRole('heading', { name: 'Decision' }).waitFor()
    const decision = await page.locator('section[aria-labelledby="dec-h"]').textContent()
    expect(decision).toContain('approval_required')
    expect(decision).toMatch(/approval-granted: review rev_\S+ approved by admin\.tokens\[0\]; grant grt_\S+ \(0 uses left\)/)
    expect(await page.locator(`a[href="#/reviews/${reviewId}"]`).count()).toBe(1)
    const claims = await page.locator('section[aria-labelledby="sum-h"]').textContent()
    expect(claims).toMatch(/exp\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+\)/)
  })

  it('describes the admin action that approved it as an admin action, not a refused call', async () => {
    const res = await fetch(`${stack.url}/admin/api/audit?principal=${encodeURIComponent('admin.tokens[0]')}&limit=5`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    const { records } = (await res.json()) as { records: { id: string; endpoint: string }[] }
    const action = records.find((r) => r.endpoint === 'admin')
    expect(action).toBeDefined()
    await page.goto(`${stack.origin}/ui/#/audit/${action!.id}`)
    await page.getByRole('heading', { name: 'Response (masked)' }).waitFor()
    const body = (await page.locator('main').textContent()) ?? ''
    expect(body).toContain('An admin action by admin.tokens[0]')
    expect(body).not.toContain('refused before it went upstream')
    expect(body).not.toContain('metadata only')
  })

  it('offers no Revoke for a used-up grant', async () => {
    await page.goto(`${stack.origin}/ui/#/grants`)
    const row = page.locator('#grants-table tbody tr').filter({ hasText: 'ci:1234567/once' })
    await row.waitFor()
    expect(await row.textContent()).toContain('used up')
    expect(await row.getByRole('button', { name: /Revoke/ }).count()).toBe(0)
  })

  it('takes dates in UTC, as it shows them, and suggests principals seen', async () => {
    await page.goto(`${stack.origin}/ui/#/audit`)
    await page.getByLabel('Since (UTC)').fill('2030-01-02T03:04:05')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => page.url()).toContain(`since=${encodeURIComponent('2030-01-02T03:04:05.000Z')}`)
    await expect.poll(() => inPage<string[]>(page, `[...document.querySelectorAll('#f-principals option')].map((o) => o.value)`)).toContain('ci:1234567/once')
  })

  it('keeps a phone-sized page from scrolling sideways on the audit, grants and reviews lists', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    try {
      for (const [view, table] of [['audit', '#audit-results table'], ['grants', '#grants-table'], ['reviews?state=all', '#reviews-table']] as const) {
        await page.goto(`${stack.origin}/ui/#/${view}`)
        await page.locator(table).waitFor()
        expect(await inPage<number>(page, 'document.documentElement.scrollWidth'), view).toBeLessThanOrEqual(390)
      }
      await browser.shot('10-audit-390px')
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 })
    }
  })

  it('raised no CSP violation and no script error', () => {
    expect(browser.problems).toEqual([])
  })
})
