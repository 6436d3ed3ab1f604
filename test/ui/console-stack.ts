import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createConsoleHandler, defaultConsoleRoot } from '../../src/ui/console-handler.js'
import { defaultRules, startStack, type Stack } from '../e2e/harness.js'

/**
 * The browser tests' world: the e2e stack (mock upstream + gateway, in-process) with rules for the
 * console to show, admin tokens, and the console at `/ui/`. While the gateway does not mount the
 * console itself, a small front server on another port serves `/ui/` and passes everything else
 * through to the gateway, byte for byte (streams and held requests included), so the console
 * still talks to `/admin/api/*` on its own origin.
 */

/** Debian's Chromium; `SKILLGATE_CHROMIUM` points elsewhere (another OS, or to try the missing-browser path). */
export const CHROMIUM = process.env.SKILLGATE_CHROMIUM ?? '/usr/bin/chromium'
export const ADMIN_TOKEN = 'console-admin-token-for-tests-0123456789'
export const AUDITOR_TOKEN = 'console-auditor-token-for-tests-0123456789'
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'ui')

export interface ConsoleStack extends Stack {
  /** Origin serving `/ui/` and `/admin/api/*` (the gateway itself once it mounts the console). */
  readonly origin: string
  /** A workload token for a repository (`app` is allowed; `held` and `once` wait for approval). */
  token(repo: 'app' | 'held' | 'once', claims?: Record<string, unknown>): Promise<string>
}

/** @param extra more configuration on top of the console's (e.g. audit signing for the head status line). */
export async function startConsoleStack(extra?: (config: Record<string, unknown>) => void): Promise<ConsoleStack> {
  const stack = await startStack({
    // Slow enough frames that the replay visibly streams (about 40 frames → ~1.2 s).
    mock: { frameDelayMs: 30 },
    configure: (config) => {
      const appRule = { ...structuredClone(defaultRules[0]!), masking: ['default'] }
      const heldRule = {
        ...structuredClone(defaultRules[0]!),
        id: 'held',
        match: { subject: 'repo:acme/held:*', claims: { repository_owner_id: '1234567' } },
        principal: 'ci:{repository_owner_id}/held',
        masking: ['default'],
        approval: { required: true, hold: '30s', grantTtl: '1h' },
      }
      // One use per approval: the held call takes it, and the grant is used up at once.
      const onceRule = { ...heldRule, id: 'once', match: { subject: 'repo:acme/once:*', claims: { repository_owner_id: '1234567' } }, principal: 'ci:{repository_owner_id}/once', approval: { ...heldRule.approval, uses: 1 } }
      config.rules = [appRule, heldRule, onceRule]
      config.masking = { profiles: { default: { detectors: ['email', 'credit-card', 'anthropic-key', 'aws-access-key'], patterns: [{ name: 'ticket', regex: '\\b(SEC|OPS)-[0-9]{1,7}\\b', maxLength: 16 }] } } }
      config.admin = {
        tokens: [
          { secret: { value: ADMIN_TOKEN }, roles: ['admin', 'approver'] },
          { secret: { value: AUDITOR_TOKEN }, roles: ['auditor'] },
        ],
      }
      extra?.(config)
    },
  })
  const mounted = await servesConsole(stack.url)
  const front = mounted ? undefined : await startFront(stack.url)
  return {
    ...stack,
    origin: front?.origin ?? stack.url,
    token: (repo, claims = {}) => stack.mint({ sub: `repo:acme/${repo}:ref:refs/heads/main`, ...claims }),
    async close() {
      if (front) await new Promise((resolve) => front.server.close(resolve))
      await stack.close()
    },
  }
}

async function servesConsole(url: string): Promise<boolean> {
  const res = await fetch(`${url}/ui/`)
  await res.arrayBuffer()
  return res.status === 200 && (res.headers.get('content-security-policy') ?? '').includes("script-src 'self'")
}

async function startFront(gatewayUrl: string): Promise<{ server: Server; origin: string }> {
  const target = new URL(gatewayUrl)
  const consoleHandler = createConsoleHandler({ root: defaultConsoleRoot() })
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (path === '/ui' || path.startsWith('/ui/')) {
      void consoleHandler(req, res, path, q === -1 ? '' : url.slice(q))
      return
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    res.on('close', () => upstream.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

export interface Browser {
  readonly page: Page
  readonly context: BrowserContext
  /** Console errors and uncaught exceptions (CSP violations show up here). */
  readonly problems: string[]
  shot(name: string): Promise<void>
  close(): Promise<void>
}

/** Debian's Chromium, headless, with a fresh profile; never a downloaded browser. */
export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'skillgate-ui-profile-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const problems: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text())
  })
  page.on('pageerror', (error) => problems.push(String(error)))
  mkdirSync(ARTIFACTS, { recursive: true })
  return {
    page,
    context,
    problems,
    async shot(name) {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/**
 * Without Chromium the browser tests cannot run: under CI that is a failure (the install step is
 * missing); on a developer's machine they are skipped with one line.
 */
export function browserAvailability(options: { announce?: boolean } = {}): 'ready' | 'skip' | 'fail' {
  if (existsSync(CHROMIUM)) return 'ready'
  if (process.env.CI === 'true') return 'fail'
  // One line for the whole suite: only one test file announces it.
  if (options.announce) console.log(`skipping the console's browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
  return 'skip'
}

/** Signs in through the form, as a person would, and waits for the audit view. */
export async function signIn(page: Page, origin: string, token: string): Promise<void> {
  await page.goto(`${origin}/ui/#/sign-in`)
  await page.getByLabel('Admin token or OIDC bearer token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor()
}

/** A Messages call of the sample job, as a CI job makes it (workload token as the API key). */
export async function jobCall(stack: ConsoleStack, repo: 'app' | 'held' | 'once', body: Record<string, unknown>, token?: string): Promise<{ status: number; text: string; requestId: string | null }> {
  const res = await fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': token ?? (await stack.token(repo)), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }], ...body }),
  })
  return { status: res.status, text: await res.text(), requestId: res.headers.get('skillgate-request-id') }
}

/**
 * Evaluates an expression in the page. A string, not a function: the code runs in the browser,
 * and the test program is type-checked without the DOM library.
 */
export function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>
}
