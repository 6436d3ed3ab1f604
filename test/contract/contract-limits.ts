import { describe, expect, it } from 'vitest'
import { StorageError } from '../../src/storage/errors.js'
import type { SlotLease } from '../../src/storage/ports.js'
import { opening } from './fixtures.js'
import type { ContractContext } from './storage-contract.js'

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(StorageError.is(error), `expected a StorageError, got ${String(error)}`).toBe(true)
  expect((error as StorageError).code).toBe(code)
}

const iso = (ms: number) => new Date(ms).toISOString()

export function limitsContract(ctx: ContractContext): void {
  describe('counters', () => {
    it('counts within a fixed minute and starts again in the next', async () => {
      const storage = await ctx.open()
      ctx.clock.t = Date.parse('2030-01-01T10:00:42.500Z')
      expect(await storage.counters.increment('rpm', 'minute', 1)).toEqual({ value: 1, resetAt: new Date('2030-01-01T10:01:00.000Z') })
      expect((await storage.counters.increment('rpm', 'minute', 1)).value).toBe(2)
      expect((await storage.counters.increment('rpm', 'minute', 3)).value).toBe(5)
      expect(await storage.counters.get('rpm', 'minute')).toEqual({ value: 5, resetAt: new Date('2030-01-01T10:01:00.000Z') })
      expect((await storage.counters.get('other', 'minute')).value).toBe(0)
      // The day counter of the same key is another counter.
      expect((await storage.counters.get('rpm', 'day')).value).toBe(0)
      ctx.clock.t = Date.parse('2030-01-01T10:01:00.000Z')
      expect(await storage.counters.get('rpm', 'minute')).toEqual({ value: 0, resetAt: new Date('2030-01-01T10:02:00.000Z') })
      expect((await storage.counters.increment('rpm', 'minute', 1)).value).toBe(1)
    })

    it('keeps token budgets per UTC day', async () => {
      const storage = await ctx.open()
      const late = Date.parse('2030-01-01T23:59:59.000Z')
      const r1 = await storage.counters.increment('out', 'day', 700, new Date(late))
      expect([r1.value, iso(r1.resetAt.getTime())]).toEqual([700, '2030-01-02T00:00:00.000Z'])
      expect((await storage.counters.increment('out', 'day', 300, new Date(late + 500))).value).toBe(1_000)
      expect((await storage.counters.get('out', 'day', new Date(late + 1_000))).value).toBe(0)
      expect((await storage.counters.increment('out', 'day', 5, new Date(late + 1_000))).value).toBe(5)
    })

    it('never loses an increment when two instances count at once', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).counters.increment('shared', 'minute', 1)))
      // Each instance counts its own increments at once; the other's arrive with its flush.
      expect(Math.max(...results.map((r) => r.value))).toBeGreaterThanOrEqual(30)
      await Promise.all([a.counters.flush(), b.counters.flush()])
      expect((await a.counters.get('shared', 'minute')).value).toBe(60)
      expect((await b.counters.get('shared', 'minute')).value).toBe(60)
      const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).counters.increment('tokens', 'day', 250)))
      expect(Math.max(...tokens.map((r) => r.value))).toBeGreaterThanOrEqual(2_500)
      await Promise.all([a.counters.flush(), b.counters.flush()])
      expect((await b.counters.get('tokens', 'day')).value).toBe(5_000)
    })

    it('batched flush: sums stay exact when increments, flushes and audit commits interleave on two instances', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const work: Array<Promise<unknown>> = []
      let expected = 0
      for (let i = 0; i < 200; i++) {
        const store = i % 3 === 0 ? a : b
        const amount = (i * 7) % 13
        expected += amount
        work.push(store.counters.increment('mixed', 'day', amount))
        if (i % 17 === 0) work.push(store.counters.flush())
        if (i % 23 === 0) work.push(store.audit.begin(opening()))
      }
      await Promise.all(work)
      await Promise.all([a.counters.flush(), b.counters.flush()])
      const stored = await ctx.env.sql(`SELECT value FROM counters WHERE key = 'mixed'`)
      expect(Number(stored[0]?.value)).toBe(expected)
      expect((await a.counters.get('mixed', 'day')).value).toBe(expected)
    })

    it('batched flush: increments ride the next audit commit, without a transaction of their own', async () => {
      const storage = await ctx.open()
      await storage.counters.increment('ride', 'day', 9)
      // Nothing is written per increment…
      expect(await ctx.env.sql(`SELECT value FROM counters WHERE key = 'ride'`)).toEqual([])
      // …the next commit of the store carries it.
      await storage.audit.begin(opening())
      const stored = await ctx.env.sql(`SELECT value FROM counters WHERE key = 'ride'`)
      expect(Number(stored[0]?.value)).toBe(9)
    })

    it('batched flush: nothing is lost at shutdown (close flushes what is pending)', async () => {
      const first = await ctx.open()
      await Promise.all(Array.from({ length: 25 }, () => first.counters.increment('shutdown', 'minute', 2)))
      await first.close()
      const next = await ctx.open()
      expect((await next.counters.get('shutdown', 'minute')).value).toBe(50)
    })

    it('is not reset early by a replica whose clock runs behind', async () => {
      const storage = await ctx.open()
      const ahead = new Date('2030-01-01T10:01:00.100Z')
      const behind = new Date('2030-01-01T10:00:59.900Z')
      expect((await storage.counters.increment('skew', 'minute', 4, ahead)).value).toBe(4)
      const late = await storage.counters.increment('skew', 'minute', 1, behind)
      expect(late).toEqual({ value: 5, resetAt: new Date('2030-01-01T10:02:00.000Z') })
    })

    it('refuses malformed input', async () => {
      const storage = await ctx.open()
      await rejectsWith(storage.counters.increment('', 'minute', 1), 'invalid')
      await rejectsWith(storage.counters.increment('k', 'minute', -1), 'invalid')
      await rejectsWith(storage.counters.increment('k', 'minute', 1.5), 'invalid')
      await rejectsWith(storage.counters.increment('k', 'hour' as 'minute', 1), 'invalid')
      await rejectsWith(storage.counters.acquire('k', 0, 1_000), 'invalid')
    })
  })

  describe('slots', () => {
    it('holds at most max slots per key; release frees one', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const first = await a.counters.acquire('streams', 2, 60_000)
      const second = await b.counters.acquire('streams', 2, 60_000)
      expect(first).not.toBeNull()
      expect(second).not.toBeNull()
      expect(await a.counters.acquire('streams', 2, 60_000)).toBeNull()
      expect(await a.counters.acquire('other', 2, 60_000)).not.toBeNull()
      await b.counters.release(first as SlotLease)
      await b.counters.release(first as SlotLease)
      expect(await a.counters.acquire('streams', 2, 60_000)).not.toBeNull()
      expect(await a.counters.acquire('streams', 2, 60_000)).toBeNull()
    })

    it('frees the slots of a crashed holder after their TTL, unless renewed', async () => {
      const storage = await ctx.open()
      const kept = (await storage.counters.acquire('s', 2, 30_000)) as SlotLease
      const crashed = (await storage.counters.acquire('s', 2, 30_000)) as SlotLease
      ctx.clock.advance(20_000)
      const renewed = await storage.counters.renew(kept, 30_000)
      expect(renewed?.expiresAt).toEqual(new Date(ctx.clock.t + 30_000))
      ctx.clock.advance(10_000)
      // `crashed` expired now; `kept` was renewed and still holds its slot.
      expect(await storage.counters.renew(crashed, 30_000)).toBeNull()
      expect(await storage.counters.acquire('s', 2, 30_000)).not.toBeNull()
      expect(await storage.counters.acquire('s', 2, 30_000)).toBeNull()
    })

    it('grants exactly max slots to concurrent acquirers on two instances', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const leases = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).counters.acquire('race', 3, 60_000)))
      expect(leases.filter((l) => l !== null)).toHaveLength(3)
    })
  })
}
