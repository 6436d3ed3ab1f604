import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { billedTokens, counterKey, createLimiter, type Limiter, type LimitSubject } from '../../src/limits/index.js'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Storage } from '../../src/storage/ports.js'

const start = Date.parse('2030-01-01T09:00:30.000Z')
const job: LimitSubject = { principal: 'gha:1234567/42', rule: 'release-notes' }

let dir: string
let storages: Storage[]
let storage: Storage
let limiter: Limiter
const errors: Error[] = []

async function open(): Promise<Storage> {
  const s = await openStorage(`sqlite:${join(dir, 'store.db')}`, { now: () => new Date(Date.now()) })
  await s.migrate()
  storages.push(s)
  return s
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: start })
  dir = mkdtempSync(join(tmpdir(), 'skillgate-limits-'))
  storages = []
  storage = await open()
  errors.length = 0
  limiter = createLimiter({ counters: storage.counters, slotTtlMs: 3_000, onError: (e) => errors.push(e) })
})
afterEach(async () => {
  for (const s of storages) await s.close()
  rmSync(dir, { recursive: true, force: true })
  vi.useRealTimers()
})

const unary = { streaming: false }
const stream = { streaming: true }

describe('checkBefore', () => {
  it('lets everything through when the rule has no limits', async () => {
    expect(await limiter.checkBefore(job, undefined, stream)).toEqual({ ok: true, slot: null })
    expect(await limiter.checkBefore(job, {}, stream)).toEqual({ ok: true, slot: null })
  })

  it('counts requests per fixed UTC minute and says when the next one opens', async () => {
    const limits = { requestsPerMinute: 2 }
    expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
    expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
    expect(await limiter.checkBefore(job, limits, unary)).toEqual({ ok: false, limit: 'requestsPerMinute', max: 2, retryAfterSeconds: 30 })
    // Other principals and other rules have their own counters.
    expect((await limiter.checkBefore({ ...job, principal: 'gha:1/1' }, limits, unary)).ok).toBe(true)
    expect((await limiter.checkBefore({ ...job, rule: 'triage' }, limits, unary)).ok).toBe(true)
    vi.setSystemTime(Date.parse('2030-01-01T09:01:00.000Z'))
    expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
  })

  it('shares the rate between replicas: each counts on the totals flushed by the others', async () => {
    const limits = { requestsPerMinute: 10 }
    for (let i = 0; i < 6; i++) expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
    // No commit of its own per request: the increments are flushed within 200 ms (here by the timer).
    await vi.advanceTimersByTimeAsync(250)
    const other = createLimiter({ counters: (await open()).counters })
    const verdicts = await Promise.all(Array.from({ length: 8 }, () => other.checkBefore(job, limits, unary)))
    expect(verdicts.filter((v) => v.ok)).toHaveLength(4)
  })

  it('checks token budgets before the call: the call that crosses finishes, the next is refused until UTC midnight', async () => {
    const limits = { inputTokensPerDay: 1_000, outputTokensPerDay: 500 }
    expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
    await limiter.recordUsage(job, limits, { inputTokens: 100, outputTokens: 400 })
    expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
    // This call went over the output budget mid-way; it was not cut.
    await limiter.recordUsage(job, limits, { inputTokens: 100, outputTokens: 300 })
    const refused = await limiter.checkBefore(job, limits, unary)
    expect(refused).toEqual({ ok: false, limit: 'outputTokensPerDay', max: 500, retryAfterSeconds: 15 * 3_600 - 30 })
    vi.setSystemTime(Date.parse('2030-01-02T00:00:00.000Z'))
    expect((await limiter.checkBefore(job, limits, unary)).ok).toBe(true)
  })

  it('counts cache reads and writes as input, and ignores nonsense usage', async () => {
    const limits = { inputTokensPerDay: 1_000 }
    await limiter.recordUsage(job, limits, { inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 500, cacheReadInputTokens: 490 })
    expect((await storage.counters.get(counterKey('input', job), 'day')).value).toBe(1_000)
    expect(await limiter.checkBefore(job, limits, unary)).toMatchObject({ ok: false, limit: 'inputTokensPerDay' })
    await limiter.recordUsage(job, limits, { inputTokens: -5, outputTokens: Number.NaN, cacheReadInputTokens: 1.5 })
    expect((await storage.counters.get(counterKey('input', job), 'day')).value).toBe(1_000)
    // Budgets that are not configured are not counted.
    expect((await storage.counters.get(counterKey('output', job), 'day')).value).toBe(0)
  })

  it('does not spend the request rate on a request refused for its budget', async () => {
    const limits = { requestsPerMinute: 1, outputTokensPerDay: 10 }
    await limiter.recordUsage(job, limits, { inputTokens: 0, outputTokens: 10 })
    expect(await limiter.checkBefore(job, limits, unary)).toMatchObject({ ok: false, limit: 'outputTokensPerDay' })
    expect((await storage.counters.get(counterKey('rpm', job), 'minute')).value).toBe(0)
  })
})

describe('concurrent streams', () => {
  const limits = { concurrentStreams: 1 }

  it('holds a slot per streaming request until it is released', async () => {
    const first = await limiter.checkBefore(job, limits, stream)
    expect(first.ok && first.slot !== null).toBe(true)
    expect(await limiter.checkBefore(job, limits, stream)).toEqual({ ok: false, limit: 'concurrentStreams', max: 1, retryAfterSeconds: 1 })
    // Non-streaming requests take no slot.
    expect(await limiter.checkBefore(job, limits, unary)).toEqual({ ok: true, slot: null })
    if (first.ok) {
      await limiter.release(first.slot)
      await limiter.release(first.slot)
    }
    expect((await limiter.checkBefore(job, limits, stream)).ok).toBe(true)
  })

  it('keeps the slot of a long stream by renewing it, and frees the slot of a crashed holder after its TTL', async () => {
    const held = await limiter.checkBefore(job, limits, stream)
    await vi.advanceTimersByTimeAsync(30_000)
    expect((await limiter.checkBefore(job, limits, stream)).ok).toBe(false)
    expect(errors).toEqual([])
    if (held.ok) await limiter.release(held.slot)

    // A holder that dies renews nothing: its lease runs out after the TTL.
    const crashed = await storage.counters.acquire(counterKey('streams', job), 1, 3_000)
    expect(crashed).not.toBeNull()
    expect((await limiter.checkBefore(job, limits, stream)).ok).toBe(false)
    vi.setSystemTime(Date.now() + 3_000)
    const after = await limiter.checkBefore(job, limits, stream)
    expect(after.ok).toBe(true)
    if (after.ok) await limiter.release(after.slot)
  })
})

describe('output reservations (settle)', () => {
  const budget = { outputTokensPerDay: 100 }
  const spent = async () => (await storage.counters.get(counterKey('output', job), 'day')).value

  it('reserves max_tokens, refuses what does not fit, and gives the reservation back on settle', async () => {
    const first = await limiter.checkBefore(job, budget, { ...unary, outputReservation: 80 })
    expect(first).toMatchObject({ ok: true, reservation: { amount: 80 } })
    expect(await limiter.checkBefore(job, budget, { ...unary, outputReservation: 30 })).toMatchObject({ ok: false, limit: 'outputTokensPerDay', max: 100 })
    if (!first.ok) throw new Error('unreachable')
    await limiter.settle(job, budget, first.reservation, { inputTokens: 5, outputTokens: 12, chargeReservation: false })
    expect(await spent()).toBe(12)
    expect(await limiter.checkBefore(job, budget, { ...unary, outputReservation: 88 })).toMatchObject({ ok: true })
  })

  it('charges the whole reservation when the call was not seen to finish', async () => {
    const verdict = await limiter.checkBefore(job, budget, { ...unary, outputReservation: 70 })
    if (!verdict.ok) throw new Error('refused')
    await limiter.settle(job, budget, verdict.reservation, { inputTokens: 0, outputTokens: 3, chargeReservation: true })
    expect(await spent()).toBe(70)
  })

  it('a release after midnight lands on its own day, never on the next', async () => {
    vi.setSystemTime(Date.parse('2030-01-01T23:59:59.000Z'))
    const late = await limiter.checkBefore(job, budget, { ...unary, outputReservation: 90 })
    if (!late.ok) throw new Error('refused')
    vi.setSystemTime(Date.parse('2030-01-02T00:00:05.000Z'))
    await limiter.settle(job, budget, late.reservation, { inputTokens: 0, outputTokens: 10, chargeReservation: false })
    // The new day: 10 spent, nothing outstanding, and no credit from yesterday's release.
    expect(await limiter.checkBefore(job, budget, { ...unary, outputReservation: 90 })).toMatchObject({ ok: true })
    expect(await limiter.checkBefore(job, budget, { ...unary, outputReservation: 1 })).toMatchObject({ ok: false })
  })
})

describe('billedTokens', () => {
  it.each([
    ['top-level usage only', { input_tokens: 10, output_tokens: 20 }, { input: 10, output: 20 }],
    ['cache reads count as input', { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 1, output_tokens: 2 }, { input: 16, output: 2 }],
    ['advisor iterations add to the executor', { input_tokens: 10, output_tokens: 20, iterations: [{ type: 'advisor_message', model: 'claude-opus-4-6', input_tokens: 100, output_tokens: 300 }] }, { input: 110, output: 320 }],
    ['iterations that list the executor are the whole bill', { input_tokens: 10, output_tokens: 20, iterations: [{ type: 'message', input_tokens: 10, output_tokens: 20 }, { type: 'compaction', input_tokens: 50, output_tokens: 7 }] }, { input: 60, output: 27 }],
    ['junk counts as 0', { input_tokens: -1, output_tokens: 'x', iterations: [null, { output_tokens: 1.5 }] }, { input: 0, output: 0 }],
  ])('%s', (_name, usage, expected) => {
    expect(billedTokens(usage)).toEqual(expected)
  })
})
