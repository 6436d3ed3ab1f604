import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { describeWithOpenssl, startLocalTsa, type LocalTsa } from '../audit/local-tsa.js'
import { AUDITOR_TOKEN, browserAvailability, jobCall, openBrowser, signIn, startConsoleStack, type Browser, type ConsoleStack } from './console-stack.js'

/**
 * Issue #16 in the console: the audit view's status line names the last signed chain head, whether
 * it verifies, and (with `audit.timestamping`) the TSA time of its RFC 3161 timestamp, checked
 * against `audit.timestamping.trust` — in a real browser, against a local TSA (`openssl ts`).
 */
const availability = browserAvailability()

describeWithOpenssl('the console shows the trusted time of the last signed head', () => describe.skipIf(availability !== 'ready')('in a browser', () => {
  let tsa: LocalTsa
  let stack: ConsoleStack
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    tsa = await startLocalTsa()
    stack = await startConsoleStack((config) => {
      config.audit = { signing: { everyRecords: 1 }, timestamping: { url: tsa.url, trust: { fromFile: tsa.caPath }, timeout: '5s' } }
    })
    browser = await openBrowser()
    page = browser.page
    for (let i = 0; i < 2; i++) expect((await jobCall(stack, 'app', {})).status).toBe(200)
    // Timestamps are asked for after the head is stored: wait for the newest head's token.
    await vi.waitFor(async () => {
      const res = await fetch(`${stack.url}/admin/api/audit/heads/latest`, { headers: { authorization: `Bearer ${AUDITOR_TOKEN}` } })
      expect(((await res.json()) as { timestamp?: { verifies: boolean } }).timestamp?.verifies).toBe(true)
    }, { timeout: 10_000, interval: 100 })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
    await tsa?.close()
  })

  it('names the head, says it verifies, and gives the TSA time', async () => {
    await signIn(page, stack.origin, AUDITOR_TOKEN)
    const line = page.getByText(/Last signed chain head: position \d+/)
    await line.waitFor()
    const text = (await line.textContent()) ?? ''
    expect(text).toContain('✔ verifies')
    expect(text).toMatch(/Trusted time: existed by 20\d\d-\d\d-\d\dT[0-9:.]+Z \(CN=skillgate test TSA\) ✔/)
    expect(await line.getAttribute('class')).toBe('hint')
  })
}))
