import { describe, expect, it } from 'vitest'
import { genesisHash } from '../../src/audit/chain.js'
import { StorageError } from '../../src/storage/errors.js'
import type { AuditRecord } from '../../src/audit/record.js'
import type { ContractContext } from './storage-contract.js'
import { completion, opening } from './fixtures.js'

const at = (iso: string) => new Date(iso)

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(StorageError.is(error), `expected a StorageError, got ${String(error)}`).toBe(true)
  expect((error as StorageError).code).toBe(code)
}

export function auditContract(ctx: ContractContext): void {
  describe('schema', () => {
    it('migrates from nothing once, then is up to date and healthy', async () => {
      const storage = await ctx.open()
      const again = await storage.migrate()
      expect(again.from).toBe(again.to)
      expect(again.to).toBeGreaterThanOrEqual(1)
      expect(await storage.health()).toMatchObject({ ok: true })
    })
  })

  describe('begin, complete, get', () => {
    it('stores both halves as two chain links and assembles the record', async () => {
      const storage = await ctx.open()
      const o = opening({ start: at('2030-01-01T00:00:00.000Z') })
      const opened = await storage.audit.begin(o)
      expect(opened).toMatchObject({ seq: 1, prevHash: genesisHash })
      const inFlight = (await storage.audit.get(o.id)) as AuditRecord
      expect(inFlight).toMatchObject({ id: o.id, outcome: 'open', status: null, response: null, hash: opened.hash, chain: { close: null } })

      const closed = await storage.audit.complete(o.id, completion(at('2030-01-01T00:00:00.000Z')))
      expect(closed).toMatchObject({ seq: 2, prevHash: opened.hash })
      const record = (await storage.audit.get(o.id)) as AuditRecord
      expect(record).toMatchObject({
        v: 1,
        id: o.id,
        time: { start: '2030-01-01T00:00:00.000Z', firstByte: '2030-01-01T00:00:00.120Z', end: '2030-01-01T00:00:00.900Z' },
        principal: 'gha:1234567/42',
        issuer: 'github',
        sub: 'repo:acme/app:ref:refs/heads/main',
        claims: { repository: 'acme/app', workflow: 'release' },
        rule: 'release-notes',
        decision: 'allow',
        reasons: [{ code: 'rule-matched', detail: 'release-notes' }, { code: 'model-granted' }],
        endpoint: 'messages',
        model: 'claude-sonnet-4-5',
        skills: ['generate-release-notes'],
        status: 200,
        upstreamRequestId: 'req_011CXYZ',
        usage: { inputTokens: 12, outputTokens: 34, cacheCreationInputTokens: 0, cacheReadInputTokens: 5 },
        latency: { totalMs: 900, firstByteMs: 120, upstreamMs: 110 },
        maskHits: { request: { email: 1 }, response: { email: 2 } },
        outcome: 'completed',
        prevHash: genesisHash,
        hash: closed.hash,
        chain: { open: opened, close: closed },
      })
      expect(record.claims).not.toHaveProperty('nested')
      expect(record.response).toMatchObject({ kind: 'sse', events: [{ t: 120, event: 'message_start' }, { t: 300 }] })
      expect(await storage.audit.get('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBeUndefined()
    })

    it('refuses duplicate, unknown, twice-completed and malformed halves, each on its own', async () => {
      const storage = await ctx.open()
      const o = opening()
      const good = opening()
      const results = await Promise.allSettled([
        storage.audit.begin(o),
        storage.audit.begin(o),
        storage.audit.begin({ ...good, id: 'not-a-ulid' }),
        storage.audit.begin(good),
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
      await rejectsWith(storage.audit.begin(o), 'conflict')
      await rejectsWith(storage.audit.begin({ ...good, id: 'not-a-ulid' }), 'invalid')
      await rejectsWith(storage.audit.complete('01ARZ3NDEKTSV4RRFFQ69G5FAV', completion(new Date())), 'not_found')
      await storage.audit.complete(o.id, completion(new Date(o.start)))
      await rejectsWith(storage.audit.complete(o.id, completion(new Date(o.start))), 'conflict')
      await rejectsWith(storage.audit.complete(good.id, { ...completion(new Date(good.start)), outcome: 'weird' as 'completed' }), 'invalid')
      expect((await storage.audit.verify()).ok).toBe(true)
    })

    it('commits a begin and its complete submitted together, in order', async () => {
      const storage = await ctx.open()
      const o = opening({ decision: 'deny' })
      const [b, c] = await Promise.all([storage.audit.begin(o), storage.audit.complete(o.id, completion(new Date(o.start), 'denied'))])
      expect(c.seq).toBe(b.seq + 1)
      expect(await storage.audit.get(o.id)).toMatchObject({ decision: 'deny', outcome: 'denied' })
    })
  })

  describe('list and iterate', () => {
    async function seed(storage: Awaited<ReturnType<ContractContext['open']>>) {
      const ids: string[] = []
      for (let i = 0; i < 12; i++) {
        const start = new Date(Date.parse('2030-01-01T00:00:00.000Z') + i * 60_000)
        const o = opening({
          start,
          principal: i % 3 === 0 ? 'gha:1/1' : 'gha:2/2',
          rule: i % 2 === 0 ? 'release-notes' : 'triage',
          skills: i % 4 === 0 ? ['xlsx', 'generate-release-notes'] : ['generate-release-notes'],
          decision: i === 5 ? 'deny' : 'allow',
          ...(i % 5 === 1 ? { clientSession: 'f3b1c2d4-0000-4000-8000-000000000001' } : {}),
          ...(i % 4 === 2 ? { endpoint: 'mcp.tools.call' } : {}),
        })
        await storage.audit.begin(o)
        if (i !== 11) await storage.audit.complete(o.id, completion(start, i === 5 ? 'denied' : 'completed'))
        ids.push(o.id)
      }
      return ids
    }

    it('lists newest first and filters by principal, rule, skill, decision, outcome and time', async () => {
      const storage = await ctx.open()
      const ids = await seed(storage)
      const list = async (filter: object) => (await storage.audit.list({ limit: 100, ...filter })).records.map((r) => r.id)
      expect(await list({})).toEqual([...ids].reverse())
      expect(await list({ principal: 'gha:1/1' })).toEqual([ids[9], ids[6], ids[3], ids[0]])
      expect(await list({ rule: 'triage', principal: 'gha:2/2' })).toEqual([ids[11], ids[7], ids[5], ids[1]])
      expect(await list({ skill: 'xlsx' })).toEqual([ids[8], ids[4], ids[0]])
      expect(await list({ clientSession: 'f3b1c2d4-0000-4000-8000-000000000001' })).toEqual([ids[11], ids[6], ids[1]])
      expect(await list({ clientSession: 'f3b1c2d4-0000-4000-8000-000000000001', principal: 'gha:1/1' })).toEqual([ids[6]])
      expect(await list({ clientSession: 'no-such-session' })).toEqual([])
      expect(await list({ endpoint: 'mcp.tools.call' })).toEqual([ids[10], ids[6], ids[2]])
      expect(await list({ endpoint: 'mcp.tools.call', clientSession: 'f3b1c2d4-0000-4000-8000-000000000001' })).toEqual([ids[6]])
      expect((await storage.audit.get(ids[6] ?? ''))?.clientSession).toBe('f3b1c2d4-0000-4000-8000-000000000001')
      expect((await storage.audit.get(ids[0] ?? ''))?.clientSession).toBeNull()
      expect(await list({ decision: 'deny' })).toEqual([ids[5]])
      expect(await list({ outcome: 'denied' })).toEqual([ids[5]])
      expect(await list({ outcome: 'open' })).toEqual([ids[11]])
      expect(await list({ from: at('2030-01-01T00:02:00.000Z'), to: at('2030-01-01T00:04:00.000Z') })).toEqual([ids[3], ids[2]])
    })

    it('pages with a cursor without gaps or repeats', async () => {
      const storage = await ctx.open()
      const ids = await seed(storage)
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await storage.audit.list({ limit: 5, cursor })
        seen.push(...page.records.map((r) => r.id))
        cursor = page.nextCursor ?? undefined
        pages++
      } while (cursor)
      expect(pages).toBe(3)
      expect(seen).toEqual([...ids].reverse())
      await rejectsWith(storage.audit.list({ limit: 5, cursor: 'bogus' }), 'invalid')
      await rejectsWith(storage.audit.list({ limit: 0 }), 'invalid')
    })

    it('iterates every matching record oldest first', async () => {
      const storage = await ctx.open()
      const ids = await seed(storage)
      const all: string[] = []
      for await (const r of storage.audit.iterate()) all.push(r.id)
      expect(all).toEqual(ids)
      const some: string[] = []
      for await (const r of storage.audit.iterate({ principal: 'gha:1/1' })) some.push(r.id)
      expect(some).toEqual([ids[0], ids[3], ids[6], ids[9]])
    })
  })

  describe('crash recovery', () => {
    it('marks records of a lost writer interrupted, never those of a live one', async () => {
      const a = await ctx.open({ writerLeaseMs: 60_000 })
      const b = await ctx.open({ writerLeaseMs: 60_000 })
      const old = opening({ start: ctx.clock.now() })
      await a.audit.begin(old)
      ctx.clock.advance(10_000)
      const recent = opening({ start: ctx.clock.now() })
      await a.audit.begin(recent)
      expect(await b.audit.markInterrupted()).toBe(0)

      // a stops renewing (a crash): once its lease has run out, b may close its records.
      ctx.clock.advance(61_000)
      expect(await b.audit.markInterrupted(new Date(Date.parse(old.start) + 5_000))).toBe(1)
      expect(await b.audit.get(old.id)).toMatchObject({ outcome: 'interrupted', status: null, error: 'writer-lost' })
      expect(await b.audit.get(recent.id)).toMatchObject({ outcome: 'open' })
      expect(await b.audit.markInterrupted()).toBe(1)
      expect(await b.audit.markInterrupted()).toBe(0)
      await rejectsWith(a.audit.complete(recent.id, completion(new Date(recent.start))), 'conflict')
      const report = await b.audit.verify()
      expect(report).toMatchObject({ ok: true, links: 4, records: 2 })
    })
  })

  describe('group commit and several writers', () => {
    it('shares one transaction among concurrent halves', async () => {
      const storage = await ctx.open()
      const openings = Array.from({ length: 50 }, () => opening())
      await Promise.all(openings.map((o) => storage.audit.begin(o)))
      const afterBegins = storage.audit.stats()
      expect(afterBegins.writes).toBe(50)
      expect(afterBegins.commits).toBeLessThan(50)
      expect(afterBegins.commits).toBeLessThanOrEqual(2)
      await Promise.all(openings.map((o) => storage.audit.complete(o.id, completion(new Date(o.start)))))
      expect(storage.audit.stats().commits - afterBegins.commits).toBeLessThanOrEqual(2)
      expect((await storage.audit.verify()).ok).toBe(true)
    })

    it('keeps one valid chain when two instances write in parallel', async () => {
      const [a, b] = [await ctx.open({ maxBatch: 7 }), await ctx.open({ maxBatch: 5 })]
      const run = async (storage: typeof a, n: number) => {
        await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const o = opening()
            await storage.audit.begin(o)
            await new Promise((resolve) => setTimeout(resolve, i % 3))
            await storage.audit.complete(o.id, completion(new Date(o.start)))
          }),
        )
      }
      await Promise.all([run(a, 60), run(b, 60)])
      const report = await a.audit.verify()
      expect(report.problems).toEqual([])
      expect(report).toMatchObject({ ok: true, links: 240, records: 120, head: { seq: 240 } })
      expect((await b.audit.list({ limit: 1000 })).records).toHaveLength(120)
    })
  })

  describe('store unavailable', () => {
    it('rejects with unavailable after close, and reports unhealthy', async () => {
      const storage = await ctx.open()
      await storage.close()
      await rejectsWith(storage.audit.begin(opening()), 'unavailable')
      await rejectsWith(storage.revocations.version(), 'unavailable')
      await rejectsWith(storage.replay.useOnce('iss', 'jti', new Date(Date.now() + 60_000)), 'unavailable')
      expect((await storage.health()).ok).toBe(false)
    })
  })
}
