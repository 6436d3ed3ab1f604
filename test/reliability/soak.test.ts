import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { MOCK_PII, startMockUpstream } from '../../src/mock-upstream/index.js'
import { openStorage } from '../../src/storage/open-storage.js'
import { API_HEADERS, requireBuild, residentBytes, residentBytesFromMetrics, sleep, startChildGateway, type ChildGateway } from './helpers.js'

/**
 * Reliability: a bounded soak under load (docs/reliability.md, "soak"). A gateway child process
 * from `dist/` serves at least 15 s and 1,500 requests of mixed traffic (JSON, SSE, masked SSE, slow SSE, upstream 429s,
 * refusals) at moderate concurrency, with a 128 MiB heap cap as in a container. Its resident
 * memory, sampled from /proc (or its /metrics),
 * stays flat: after a warm-up, the second half's peak is within 25 % of the first half's. Every
 * request gets the expected answer, every request has its audit record, and the chain verifies.
 */
const DURATION_MS = 15_000
/** Traffic goes on past DURATION_MS until this many requests were sent (a loaded machine is slower), up to MAX_DURATION_MS. */
const MIN_REQUESTS = 1_500
const MAX_DURATION_MS = 90_000
const WARMUP_MS = 3_000
const CONCURRENCY = 8
/** Pause between two requests of one client: moderate load, not a saturation benchmark (other suites run alongside). */
const THINK_MS = 10
/**
 * A container-like heap cap. Without one V8 lets the old generation grow to ~2x its steady size
 * before the first full collection (measured here: 113 -> 226 MiB over the first 15 s, then flat at
 * ~160 MiB for 45 s), which a 15 s window would misread as growth; under the cap the steady state
 * shows within the warm-up, and a real leak ends in an out-of-memory crash the test reports.
 */
const CHILD_NODE_OPTIONS = '--max-old-space-size=128'
const dir = mkdtempSync(join(tmpdir(), 'skillgate-soak-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type Kind = 'json' | 'sse' | 'masked-sse' | 'slow-sse' | 'upstream-429' | 'no-token' | 'malformed'
const MIX: readonly Kind[] = ['json', 'json', 'json', 'json', 'sse', 'sse', 'sse', 'masked-sse', 'masked-sse', 'slow-sse', 'upstream-429', 'no-token', 'malformed']
const EXPECTED: Record<Kind, number> = { json: 200, sse: 200, 'masked-sse': 200, 'slow-sse': 200, 'upstream-429': 429, 'no-token': 401, malformed: 400 }

describe('soak: 15 s of mixed traffic against a gateway child process', () => {
  it('memory stays flat, every request is answered as expected and audited, the chain verifies', async () => {
    requireBuild()
    const mock = await startMockUpstream({ maxRecordedRequests: 100 })
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const dbUrl = `sqlite:${join(dir, 'audit.db')}`
    const configPath = join(dir, 'skillgate.yaml')
    writeFileSync(
      configPath,
      stringify({
        // The per-address cap on unauthenticated refusals (default 300/min) is not what this measures.
        listen: { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 1_000_000 },
        upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
        storage: { url: dbUrl },
        gatewayTokens: { signingKey: { fromFile: join(dir, 'gw-key.json') } },
        issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'gw', algorithms: ['ES256'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }, direct: true }],
        masking: { profiles: { default: { detectors: ['email', 'credit-card', 'anthropic-key', 'aws-access-key'] }, tickets: { patterns: [{ name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }] } } },
        rules: [
          { id: 'plain', issuer: 'ci', match: { subject: 'job:plain' }, allow: { endpoints: ['messages'], models: ['claude-*', 'mock-*'] } },
          { id: 'masked', issuer: 'ci', match: { subject: 'job:masked' }, allow: { endpoints: ['messages'], models: ['claude-*'] }, masking: ['default', 'tickets'] },
        ],
      }),
    )
    const mint = (sub: string) => {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject(sub).setIssuedAt(now).setExpirationTime(now + 900).sign(privateKey)
    }
    const plain = await mint('job:plain')
    const masked = await mint('job:masked')
    let gw: ChildGateway | undefined
    try {
      gw = await startChildGateway(configPath, { NODE_OPTIONS: CHILD_NODE_OPTIONS })
      const child = gw
      const rss = async () => residentBytes(child.pid) ?? (await residentBytesFromMetrics(child.url))
      const samples: { t: number; bytes: number }[] = []
      const counts = new Map<Kind, number>()
      const wrong: string[] = []
      let leaks = 0
      let sent = 0
      const started = performance.now()
      const stopAt = started + DURATION_MS
      const hardStopAt = started + MAX_DURATION_MS
      const running = () => performance.now() < hardStopAt && (performance.now() < stopAt || sent < MIN_REQUESTS)

      async function one(kind: Kind): Promise<void> {
        const body = (extra: Record<string, unknown> = {}, content = 'hi') => JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content }], ...extra })
        const init: Record<Kind, { body: string; headers: Record<string, string> }> = {
          json: { body: body(), headers: { 'x-api-key': plain } },
          sse: { body: body({ stream: true }), headers: { 'x-api-key': plain } },
          'masked-sse': { body: body({ stream: true }, 'MOCK:PII please'), headers: { 'x-api-key': masked } },
          'slow-sse': { body: body({ stream: true }), headers: { 'x-api-key': plain, 'mock-delay-ms': '4' } },
          'upstream-429': { body: body({ model: 'mock-error-429' }), headers: { 'x-api-key': plain } },
          'no-token': { body: body(), headers: {} },
          malformed: { body: '{"model":"claude-sonnet-4-6",', headers: { 'x-api-key': plain } },
        }
        const { body: payload, headers } = init[kind]
        sent++
        try {
          const res = await fetch(`${child.url}/v1/messages`, { method: 'POST', body: payload, headers: { ...API_HEADERS, ...headers } })
          const text = await res.text()
          if (res.status !== EXPECTED[kind]) wrong.push(`${kind}: ${res.status} ${text.slice(0, 160)}`)
          else if (kind.endsWith('sse') && !text.includes('event: message_stop')) wrong.push(`${kind}: no message_stop: ${text.slice(-160)}`)
          if (kind === 'masked-sse' && Object.values(MOCK_PII).some((secret) => text.includes(secret))) leaks++
        } catch (error) {
          wrong.push(`${kind}: ${String(error)}`)
        }
        counts.set(kind, (counts.get(kind) ?? 0) + 1)
      }

      let next = 0
      const workers = Array.from({ length: CONCURRENCY }, async () => {
        while (running()) {
          await one(MIX[next++ % MIX.length] as Kind)
          await sleep(THINK_MS)
        }
      })
      const sampler = (async () => {
        while (running()) {
          await sleep(250)
          const bytes = await rss()
          if (bytes !== undefined) samples.push({ t: performance.now() - started, bytes })
        }
      })()
      await Promise.all([...workers, sampler])
      const ranMs = performance.now() - started

      const mb = (b: number) => (b / 1048576).toFixed(1)
      const measured = samples.filter((s) => s.t >= WARMUP_MS)
      const middle = WARMUP_MS + (ranMs - WARMUP_MS) / 2
      const first = measured.filter((s) => s.t < middle).map((s) => s.bytes)
      const second = measured.filter((s) => s.t >= middle).map((s) => s.bytes)
      const summary = `${sent} requests in ${(ranMs / 1000).toFixed(1)} s (${JSON.stringify(Object.fromEntries(counts))}); RSS MiB first half max ${mb(Math.max(...first))}, second half max ${mb(Math.max(...second))}; samples ${samples.map((s) => mb(s.bytes)).join(' ')}`
      console.log(`soak: ${summary}`)

      expect(wrong.slice(0, 10), summary.slice(0, 300)).toEqual([])
      expect(leaks, 'a masked stream carried a planted secret').toBe(0)
      expect(sent, `moderate load actually ran: ${summary}`).toBeGreaterThanOrEqual(MIN_REQUESTS)
      expect(first.length).toBeGreaterThan(5)
      expect(second.length).toBeGreaterThan(5)
      expect(Math.max(...second), `memory stays flat: ${summary}`).toBeLessThanOrEqual(Math.max(...first) * 1.25)
      expect(child.child.exitCode, child.output()).toBeNull()
      expect((await fetch(`${child.url}/healthz`)).status).toBe(200)

      expect(await child.stop(), `graceful stop: ${child.output().slice(-1_000)}`).toBe(0)
      const storage = await openStorage(dbUrl)
      try {
        // Every request is accounted for: its own record, or its share of an aggregated record of
        // anonymous refusals (docs/audit.md, issue #16).
        let accounted = 0
        for await (const record of storage.audit.iterate()) {
          accounted += record.aggregate?.count ?? 1
          expect(record.outcome, record.id).not.toBe('open')
        }
        expect(accounted, 'every request has a record or is counted in an aggregate').toBe(sent)
        expect((await storage.audit.verify()).ok).toBe(true)
      } finally {
        await storage.close()
      }
    } finally {
      await gw?.stop(2_000)
      await mock.close()
    }
  }, 150_000)
})
