import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_PII } from '../../src/mock-upstream/index.js'
import { ADMIN_TOKEN, inPage, CHROMIUM, browserAvailability, jobCall, openBrowser, signIn, startConsoleStack, type Browser, type ConsoleStack } from './console-stack.js'

/**
 * The web console end to end in headless Chromium (issue "Admin API, CLI and web console"): sign
 * in, audit search, the detail view with attacker-influenced text rendered as text, the replay
 * player, the policy explain playground, and keyboard use. Screenshots go to test-artifacts/ui/.
 */

const availability = browserAvailability({ announce: true })
const ATTACK = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

if (availability === 'fail') {
  describe('web console in a browser', () => {
    it('needs Chromium', () => {
      throw new Error(`Chromium is not installed at ${CHROMIUM}; CI must install it (apt-get install -y chromium in .ci/run)`)
    })
  })
}

describe.skipIf(availability !== 'ready')('web console in a browser', () => {
  let stack: ConsoleStack
  let browser: Browser
  let page: Page
  let streamedId: string
  let deniedId: string

  beforeAll(async () => {
    stack = await startConsoleStack()
    browser = await openBrowser()
    page = browser.page
    const denied = await jobCall(stack, 'app', { model: 'gpt-4' })
    expect(denied.status).toBe(403)
    deniedId = denied.requestId!
    const streamed = await jobCall(stack, 'app', { stream: true, messages: [{ role: 'user', content: `MOCK:PII ${ATTACK}` }] })
    expect(streamed.status).toBe(200)
    streamedId = streamed.requestId!
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  it('serves /ui/ with a strict CSP, nosniff, and a redirect from /ui', async () => {
    const res = await fetch(`${stack.origin}/ui/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await res.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org)/)
    const bare = await fetch(`${stack.origin}/ui`, { redirect: 'manual' })
    expect(bare.status).toBe(301)
    expect(bare.headers.get('location')).toBe('/ui/')
  })

  it('signs in with a pasted token, kept in this tab only', async () => {
    await page.goto(`${stack.origin}/ui/`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(page.url()).toContain('#/sign-in')
    expect(await page.locator('#token-storage').textContent()).toContain('sessionStorage')
    const input = page.getByLabel('Admin token or OIDC bearer token')
    await input.fill('not-a-real-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'does not accept' }).waitFor()
    await browser.shot('01-sign-in')
    await signIn(page, stack.origin, ADMIN_TOKEN)
    expect(await inPage(page, `[sessionStorage.getItem('skillgate.console.token'), localStorage.length, document.cookie]`)).toEqual([ADMIN_TOKEN, 0, ''])
  })

  it('finds requests in the audit search by decision and principal', async () => {
    await page.getByLabel('Decision').selectOption('deny')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.locator(`tr[data-id="${deniedId}"]`).waitFor()
    expect(await page.locator('#audit-results tbody tr').count()).toBe(1)
    expect(page.url()).toContain('decision=deny')
    await page.goto(`${stack.origin}/ui/#/audit`)
    await page.getByLabel('Principal').fill('ci:1234567/42')
    await page.getByLabel('Outcome').selectOption('completed')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.locator(`tr[data-id="${streamedId}"]`).waitFor()
    expect(await page.locator(`tr[data-id="${deniedId}"]`).count()).toBe(0)
    await browser.shot('02-audit-search')
  })

  it('opens a record: masked request and response, reasons, usage; attacker text stays text', async () => {
    await page.getByRole('link', { name: `Open record ${streamedId}` }).click()
    await page.getByRole('heading', { name: `Audit record ${streamedId}` }).waitFor()
    const main = page.locator('main')
    const text = (await main.textContent()) ?? ''
    expect(text).toContain('model-granted')
    expect(text).toContain('[REDACTED:email]')
    expect(text).toContain('output tokens')
    // Shown as JSON text (quotes escaped), never parsed as markup.
    expect(text).toContain('<img src=x onerror=')
    expect(text).toContain('<script>window.__pwned=2</script>')
    for (const secret of Object.values(MOCK_PII)) expect(text).not.toContain(secret)
    expect(await inPage(page, `[document.querySelectorAll('main img, main script').length, window.__pwned ?? 0]`)).toEqual([0, 0])
  })

  it('replays the stream with its timing: text appears progressively, pause holds it', async () => {
    const screen = page.locator('#replay-screen')
    const length = async () => ((await screen.textContent()) ?? '').length
    await page.getByRole('button', { name: 'Play' }).click()
    const seen: number[] = []
    while ((await page.locator('#replay').getAttribute('data-state')) !== 'finished') {
      seen.push(await length())
      await page.waitForTimeout(80)
    }
    seen.push(await length())
    const distinct = [...new Set(seen)]
    expect(distinct.length, `lengths seen: ${seen.join(',')}`).toBeGreaterThanOrEqual(4)
    expect(distinct).toEqual([...distinct].sort((a, b) => a - b))
    expect(await screen.textContent()).toContain('[REDACTED:credit-card]')
    await browser.shot('03-replay')

    await page.getByRole('button', { name: 'Restart' }).click()
    await page.getByLabel('Speed').selectOption('0.5')
    await page.getByRole('button', { name: 'Play' }).click()
    await page.waitForTimeout(700)
    await page.getByRole('button', { name: 'Pause' }).click()
    const paused = await length()
    await page.waitForTimeout(500)
    expect(await length()).toBe(paused)
    expect(await page.locator('#replay').getAttribute('data-state')).toBe('paused')
    await page.getByRole('button', { name: 'Show all' }).click()
    expect(await length()).toBe(seen.at(-1))
  })

  it('explains policy decisions in the playground', async () => {
    await page.getByRole('link', { name: 'Policy explain' }).click()
    await page.getByRole('heading', { name: 'Policy explain' }).waitFor()
    const claims = { iss: 'https://ci.skillgate.test', sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '42' }
    await page.getByLabel('Token claims (JSON)').fill(JSON.stringify(claims))
    await page.getByLabel('Request (JSON)').fill(JSON.stringify({ method: 'POST', path: '/v1/messages', body: { model: 'gpt-4', max_tokens: 10, messages: [] } }))
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.locator('#explain-reasons').waitFor()
    expect(await page.locator('#explain-result').textContent()).toMatch(/Decision: deny[\s\S]*model-not-granted/)
    await browser.shot('04-explain')
    await page.getByLabel('Request (JSON)').fill('{ not json')
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.getByRole('alert').filter({ hasText: 'Request is not valid JSON' }).waitFor()
    await page.getByLabel('Request (JSON)').fill(JSON.stringify({ method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [] } }))
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.locator('#explain-result').filter({ hasText: 'Decision: allow' }).waitFor()
    expect(await page.locator('#explain-result').textContent()).toContain('ci-app')
  })

  /** A fresh page load (a hash-only goto would keep the document and its focus). */
  const load = async (hash: string) => {
    await page.goto(`${stack.origin}/ui/${hash}`)
    await page.reload()
  }

  it('is usable by keyboard: skip link, visible focus, forms', async () => {
    await load('#/audit')
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor()
    await page.keyboard.press('Tab')
    expect(await inPage(page, 'document.activeElement?.textContent')).toBe('Skip to content')
    const box = await page.locator('.skip-link').boundingBox()
    expect(box && box.y >= 0, 'the focused skip link is on screen').toBe(true)
    await page.keyboard.press('Enter')
    expect(await inPage(page, 'document.activeElement?.id')).toBe('main')
    await page.keyboard.press('Tab')
    expect(await inPage(page, 'document.activeElement?.id')).toBe('f-principal')
    expect(await inPage(page, 'getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none')
    await page.keyboard.type('ci:1234567/42')
    await page.keyboard.press('Enter')
    await page.locator(`tr[data-id="${streamedId}"]`).waitFor()
    expect(page.url()).toContain('principal=ci%3A1234567%2F42')
    // The nav is reachable in order after the skip link and the brand.
    await load('#/audit')
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor()
    const names: string[] = []
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab')
      names.push(await inPage<string>(page, `document.activeElement?.textContent?.trim() ?? ''`))
    }
    expect(names).toEqual(['Skip to content', 'skillgate', 'Audit', 'Reviews'])
  })

  it('raised no CSP violation and no script error', () => {
    // A 401 during sign-in is logged by Chromium as a failed resource; that is expected.
    expect(browser.problems.filter((p) => !p.startsWith('Failed to load resource'))).toEqual([])
  })
})
