import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, browserAvailability, openBrowser, signIn, startConsoleStack, type Browser, type ConsoleStack } from './console-stack.js'

/**
 * The console's client-session view (issue #18): a Claude Code session (`x-claude-code-session-id`)
 * is listed turn by turn and replayed as one stream, headed per turn; a record links to its session.
 */
const availability = browserAvailability()

describe.skipIf(availability !== 'ready')('console: one client session', () => {
  let stack: ConsoleStack
  let browser: Browser
  let page: Page
  const session = crypto.randomUUID()
  const ids: string[] = []

  beforeAll(async () => {
    stack = await startConsoleStack()
    browser = await openBrowser()
    page = browser.page
    for (const text of ['first turn', 'second turn']) {
      const res = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': await stack.token('app'), 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': session },
        body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, stream: true, messages: [{ role: 'user', content: text }] }),
      })
      expect(res.status).toBe(200)
      await res.text()
      ids.push(res.headers.get('skillgate-request-id') ?? '')
    }
    // Another session's turn must not show up.
    await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': await stack.token('app'), 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': crypto.randomUUID() },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'other' }] }),
    })
    await signIn(page, stack.origin, ADMIN_TOKEN)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  it('links a record to its session, lists both turns oldest first and replays them as one', async () => {
    await page.goto(`${stack.origin}/ui/#/audit/${ids[1]}`)
    await page.getByRole('link', { name: session }).click()
    await page.getByRole('heading', { name: /Client session/ }).waitFor()
    const rows = await page.locator('#session-turns tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))
    expect(rows).toEqual(ids)
    await page.getByRole('button', { name: 'Show all' }).click()
    const screen = (await page.locator('#replay-screen').textContent()) ?? ''
    expect(screen.match(/Turn \d/g)).toEqual(['Turn 1', 'Turn 2'])
    expect(screen.split('Hello from the mock upstream.').length - 1).toBe(2)
    expect(browser.problems).toEqual([])
    await browser.shot('session-replay')
  })

  it('filters the audit search by client session', async () => {
    await page.goto(`${stack.origin}/ui/#/audit?clientSession=${session}`)
    await page.locator('#audit-results table').waitFor()
    const rows = await page.locator('#audit-results tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))
    expect(rows).toEqual([...ids].reverse())
  })
})
