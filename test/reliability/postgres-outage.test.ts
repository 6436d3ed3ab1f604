import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../src/audit/record.js'
import { startMockUpstream, type MockUpstream } from '../../src/mock-upstream/index.js'
import { openStorage } from '../../src/storage/open-storage.js'
import { API_HEADERS, expectGatewayError, isAnthropicError, requireBuild, sleep, sseEvents, startChildGateway, type ChildGateway } from './helpers.js'
import { POSTGRES_ROOT, privatePostgresSupport, startPrivatePostgres, type PrivatePostgres } from './private-postgres.js'

/**
 * Reliability: the PostgreSQL store goes away while traffic flows (docs/reliability.md, "store").
 * A private server (not the machine's shared cluster) is stopped mid-traffic and started again,
 * under a gateway child process from `dist/` (so a crash is a crash, not a test-runner warning).
 * Under strict durability a request that cannot be audited is refused with 503 "audit store
 * unavailable" and never forwarded: every request the upstream saw has a committed record. Once
 * the server is back the gateway serves again and reports ready by itself, with no restart.
 */
const support = privatePostgresSupport()
const NAME = 'PostgreSQL stopped and restarted under traffic (private server, strict audit)'

if (!support.ok) {
  if (process.env.CI === 'true' && existsSync(POSTGRES_ROOT)) {
    describe(NAME, () => {
      it('needs a private PostgreSQL when CI=true', () => {
        throw new Error(`${POSTGRES_ROOT} exists but a private server cannot be started: ${support.reason}`)
      })
    })
  } else {
    console.warn(`skipping ${NAME}: ${support.reason}`)
    describe.skip(`${NAME} (skipped: ${support.reason})`, () => {
      it('runs where initdb and pg_ctl are available', () => undefined)
    })
  }
} else {
  describe(NAME, () => {
    let pg: PrivatePostgres | undefined
    let mock: MockUpstream
    let gw: ChildGateway | undefined
    let token: string
    let unavailable: string | undefined
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-pg-outage-'))
    const configPath = join(dir, 'skillgate.yaml')

    beforeAll(async () => {
      requireBuild()
      try {
        pg = await startPrivatePostgres(support)
      } catch (error) {
        if (process.env.CI === 'true') throw error
        unavailable = (error as Error).message
        console.warn(`skipping ${NAME}: ${unavailable}`)
        return
      }
      mock = await startMockUpstream()
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
      writeFileSync(
        configPath,
        stringify({
          listen: { host: '127.0.0.1', port: 0, drainTimeout: '2s' },
          upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
          storage: { url: pg.url },
          audit: { durability: 'strict' },
          gatewayTokens: { signingKey: { fromFile: join(dir, 'gw-key.json') } },
          issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'gw', algorithms: ['ES256'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }, direct: true }],
          rules: [{ id: 'job', issuer: 'ci', match: { subject: 'job:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
        }),
      )
      const now = Math.floor(Date.now() / 1000)
      token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject('job:pg').setIssuedAt(now).setExpirationTime(now + 900).sign(privateKey)
    }, 60_000)
    afterAll(async () => {
      await gw?.stop(3_000)
      await mock?.close()
      await pg?.destroy()
      rmSync(dir, { recursive: true, force: true })
    }, 30_000)

    // A failed test must not leave the server down for the next one.
    afterEach(async () => {
      if (pg && !pg.running) await pg.start()
    }, 30_000)

    /** The gateway child, started again if a previous test left it dead. */
    async function gateway(): Promise<ChildGateway> {
      if (!gw || gw.child.exitCode !== null || gw.child.signalCode !== null) gw = await startChildGateway(configPath)
      return gw
    }
    const alive = (g: ChildGateway) => g.child.exitCode === null && g.child.signalCode === null
    const url = () => gw?.url ?? 'http://127.0.0.1:9'

    const ready = async () => (await fetch(`${url()}/readyz`).catch(() => undefined))?.status ?? 0

    interface Outcome {
      readonly marker: string
      readonly stream: boolean
      readonly sentAt: number
      readonly doneAt: number
      readonly status: number
      readonly kind: 'ok' | 'refused' | 'event-error' | 'cut'
      readonly message?: string
    }

    async function one(marker: string, stream: boolean, extraHeaders: Record<string, string> = {}): Promise<Outcome> {
      const sentAt = Date.now()
      const body = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: marker }] })
      let res: Response
      let text: string
      try {
        res = await fetch(`${url()}/v1/messages`, { method: 'POST', body, headers: { ...API_HEADERS, 'x-api-key': token, ...extraHeaders } })
        text = await res.text()
      } catch {
        // The connection was cut (after a status line, or before one).
        return { marker, stream, sentAt, doneAt: Date.now(), status: 0, kind: 'cut' }
      }
      const base = { marker, stream, sentAt, doneAt: Date.now(), status: res.status }
      if (res.status === 200 && stream) {
        const last = sseEvents(text).at(-1)
        if (last?.event === 'message_stop') return { ...base, kind: 'ok' }
        const error = last?.event === 'error' ? (JSON.parse(last.data) as unknown) : undefined
        return isAnthropicError(error) ? { ...base, kind: 'event-error', message: error.error.message } : { ...base, kind: 'cut' }
      }
      if (res.status === 200) return { ...base, kind: 'ok' }
      const error = expectGatewayError({ status: res.status, headers: res.headers, body: text })
      return { ...base, kind: 'refused', message: error.error.message }
    }

    it('refuses with 503 while it is down, forwards nothing unaudited, and recovers by itself', async (ctx) => {
      if (unavailable !== undefined || !pg) return ctx.skip()
      const server = pg
      const child = await gateway()
      const crashed = () => `the gateway process died when the store went away (exit ${String(child.child.exitCode ?? child.child.signalCode)}):\n${child.output().slice(-2_500)}`
      mock.reset()
      const outcomes: Outcome[] = []
      let traffic = true
      let n = 0
      const worker = async (w: number) => {
        while (traffic) {
          const i = n++
          outcomes.push(await one(`marker-${i}`, i % 4 === w % 4 && i % 3 === 0))
          await sleep(15)
        }
      }
      const workers = Array.from({ length: 5 }, (_, w) => worker(w))
      let stoppedAt = 0
      let restartAt = 0
      try {
        // Evidence, not a fixed delay: on a loaded machine the first answers take longer.
        await expect.poll(() => outcomes.filter((o) => o.kind === 'ok').length, { message: 'traffic flows before the outage', timeout: 20_000, interval: 100 }).toBeGreaterThan(5)
        await server.stop('fast')
        stoppedAt = Date.now()
        // Readiness follows (the store is probed every 5 s); requests meanwhile are refused.
        let readiness: number | string = 0
        for (const deadline = Date.now() + 8_000; Date.now() < deadline && readiness !== 503; await sleep(200)) {
          readiness = alive(child) ? await ready() : crashed()
          if (typeof readiness === 'string') break
        }
        expect(readiness).toBe(503)
        const readyz = (await (await fetch(`${url()}/readyz`)).json()) as { storage?: { ok?: boolean } }
        expect(readyz.storage?.ok).toBe(false)
        await sleep(300)
        restartAt = Date.now()
        await server.start()
        expect(alive(child) ? 'alive' : crashed()).toBe('alive')
        // Back by itself: 200s again and ready, no restart of the gateway.
        await expect.poll(async () => (await one(`probe-${n++}`, false)).status, { timeout: 10_000, interval: 200 }).toBe(200)
        await expect.poll(ready, { timeout: 10_000, interval: 250 }).toBe(200)
        await sleep(500)
      } finally {
        traffic = false
        await Promise.all(workers)
      }

      const during = outcomes.filter((o) => o.sentAt > stoppedAt && o.doneAt < restartAt)
      expect(during.length, 'requests were sent while the store was down').toBeGreaterThan(3)
      for (const o of during) {
        expect(o.kind, JSON.stringify(o)).toBe('refused')
        expect(o.status, JSON.stringify(o)).toBe(503)
        expect(o.message, JSON.stringify(o)).toMatch(/^(audit store unavailable|revocation list unavailable)/)
      }
      expect(during.some((o) => o.message?.startsWith('audit store unavailable; request not forwarded'))).toBe(true)
      // Requests in flight at the moment it stopped end with a clear error, never a silent success.
      for (const o of outcomes) {
        if (o.kind === 'event-error') expect(o.message).toMatch(/^(audit store unavailable|upstream)/)
        if (o.kind === 'cut') expect(o.sentAt, `only a request in flight at the stop may be cut: ${JSON.stringify(o)}`).toBeLessThan(stoppedAt)
      }
      expect(outcomes.filter((o) => o.sentAt > restartAt && o.kind === 'ok').length).toBeGreaterThan(0)

      // Nothing forwarded unaudited: every request the upstream saw has a committed record.
      const forwarded = mock.requests
        .filter((r) => r.path === '/v1/messages')
        .map((r) => ((r.json as { messages?: { content?: unknown }[] } | undefined)?.messages?.[0]?.content as string | undefined) ?? '')
      const audited = new Map<string, AuditRecord>()
      const storage = await openStorage(server.url)
      try {
        for await (const record of storage.audit.iterate()) {
          const content = (record.request.body as { messages?: { content?: unknown }[] } | null)?.messages?.[0]?.content
          if (typeof content === 'string') audited.set(content, record)
        }
        expect((await storage.audit.verify()).ok).toBe(true)
      } finally {
        await storage.close()
      }
      expect(forwarded.filter((marker) => !audited.has(marker)), 'forwarded without a committed record').toEqual([])
      const upstreamDuring = mock.requests.filter((r) => r.receivedAt > stoppedAt + 50 && r.receivedAt < restartAt)
      expect(upstreamDuring, 'nothing reached the upstream while the store was down').toEqual([])
      for (const o of outcomes.filter((x) => x.kind === 'ok')) expect(audited.get(o.marker)?.outcome, o.marker).toBe('completed')
      expect(alive(child)).toBe(true)
    }, 60_000)

    // The root of a crash seen under the outage above (about one stop in three with a child
    // gateway, every time in-process): node-postgres emits 'error' on a client whose connection
    // ends while it is checked out and idle between two queries of a transaction; PgDb.tx listens
    // for none, so it is an uncaught exception. pg_terminate_backend is what a server stop sends.
    it('a connection terminated by the server in the middle of a transaction does not crash the process', async (ctx) => {
      if (unavailable !== undefined || !pg) return ctx.skip()
      const db = join(process.cwd(), 'dist', 'storage', 'postgres', 'db.js')
      const script = [
        `import { PgDb } from ${JSON.stringify(db)}`,
        "import pg from 'pg'",
        `const url = ${JSON.stringify(pg.url)}`,
        'const store = new PgDb(url, { poolSize: 2 })',
        'const killer = new pg.Client({ connectionString: url })',
        'await killer.connect()',
        'try {',
        "  await store.tx('terminated mid-transaction', async (c) => {",
        "    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid",
        "    await killer.query('SELECT pg_terminate_backend($1)', [pid])",
        '    await new Promise((r) => setTimeout(r, 300))',
        "    await c.query('SELECT 1')",
        '  })',
        "  console.log('tx resolved')",
        '} catch (error) {',
        "  console.log('tx rejected: ' + error.code)",
        '}',
        'await new Promise((r) => setTimeout(r, 200))',
        "console.log('ALIVE')",
        'await killer.end()',
        'await store.close()',
      ].join('\n')
      const { spawnSync } = await import('node:child_process')
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 20_000 })
      const output = `${result.stdout}${result.stderr}`
      expect({ exit: result.status, rejected: /tx rejected: unavailable/.test(output), alive: output.includes('ALIVE') }, output.slice(-1_500)).toEqual({ exit: 0, rejected: true, alive: true })
    }, 30_000)

    it('a stream whose completion cannot be committed ends with event: error, not message_stop', async (ctx) => {
      if (unavailable !== undefined || !pg) return ctx.skip()
      const server = pg
      const child = await gateway()
      const pending = one(`stream-cut-${Date.now()}`, true, { 'mock-first-byte-delay-ms': '1500' })
      await sleep(400) // the opening is committed and the request is upstream
      await server.stop('fast')
      try {
        const outcome = await pending
        expect(outcome.status).toBe(200)
        expect(outcome.kind).toBe('event-error')
        expect(outcome.message).toMatch(/^audit store unavailable/)
      } finally {
        await server.start()
      }
      expect(alive(child), child.output().slice(-3_000)).toBe(true)
      await expect.poll(async () => (await one(`after-${Date.now()}`, false)).status, { timeout: 10_000, interval: 200 }).toBe(200)
    }, 30_000)

    // SPEC §5: "if the store cannot commit, the request is refused (503)". For a JSON answer nothing
    // has reached the client when the completion fails, so the status can still say so.
    it('a JSON answer whose completion cannot be committed is refused with 503 audit store unavailable, not a cut 200', async (ctx) => {
      if (unavailable !== undefined || !pg) return ctx.skip()
      const server = pg
      const child = await gateway()
      const pending = one(`json-cut-${Date.now()}`, false, { 'mock-first-byte-delay-ms': '1500' })
      await sleep(400)
      await server.stop('fast')
      try {
        const outcome = await pending
        expect({ status: outcome.status, kind: outcome.kind }, `the client got ${JSON.stringify(outcome)}`).toEqual({ status: 503, kind: 'refused' })
        expect(outcome.message).toMatch(/^audit store unavailable/)
      } finally {
        await server.start()
      }
      expect(alive(child), child.output().slice(-3_000)).toBe(true)
      await expect.poll(async () => (await one(`after-${Date.now()}`, false)).status, { timeout: 10_000, interval: 200 }).toBe(200)
    }, 30_000)
  })
}
