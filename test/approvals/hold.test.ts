import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WaitOutcome } from '../../src/approvals/index.js'
import { alice, harness, request, useFakeClock, type Harness } from './helpers.js'

const rules = [
  { id: 'deploy', approval: { required: true } },
  { id: 'held', approval: { required: true, hold: 60_000, uses: 1 } },
]

let h: Harness
beforeEach(async () => {
  useFakeClock()
  h = await harness(rules)
})
afterEach(async () => {
  await h.dispose()
  vi.useRealTimers()
})

const realSetTimeout = globalThis.setTimeout
/** Real time for real I/O: SQLite writes resolve after an fsync on the thread pool, outside the fake clock. */
const io = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms))

/** A promise's settled value, or 'pending' after letting queued work and store writes run (up to 200 ms of real time). */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const marker = Symbol('pending')
  for (let i = 0; i < 20; i++) {
    await vi.advanceTimersByTimeAsync(0)
    const value = await Promise.race([promise, Promise.resolve(marker)])
    if (value !== marker) return value as T
    await io(10)
  }
  return 'pending'
}

async function openReview(rule = 'deploy'): Promise<string> {
  const admission = await h.approvals.admit(request(rule))
  if (admission.kind !== 'approval_required') throw new Error('expected a review')
  return admission.review.id
}

describe('waitForDecision', () => {
  it('wakes at once on a decision made in this process', async () => {
    const id = await openReview()
    const waiting = h.approvals.waitForDecision(id, { holdMs: 120_000 })
    expect(await peek(waiting)).toBe('pending')
    await h.approvals.decide(id, { decision: 'denied', approver: alice, reason: 'no' })
    expect(await peek(waiting)).toMatchObject({ outcome: 'denied', review: { id, state: 'denied', reason: 'no' } })
  })

  it('learns a decision made on another replica within a second', async () => {
    const id = await openReview()
    const other = await h.replica()
    const waiting = h.approvals.waitForDecision(id, { holdMs: 120_000 })
    expect(await peek(waiting)).toBe('pending')
    await other.approvals.decide(id, { decision: 'approved', approver: alice })
    expect(await peek(waiting)).toBe('pending')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await peek(waiting)).toMatchObject({ outcome: 'approved', review: { id, approver: alice.id } })
  })

  it('answers at once for a review already decided', async () => {
    const id = await openReview()
    await h.approvals.decide(id, { decision: 'approved', approver: alice })
    expect(await h.approvals.waitForDecision(id, { holdMs: 10_000 })).toMatchObject({ outcome: 'approved' })
  })

  it('times out after the hold, and ends as expired when the review expires first', async () => {
    const id = await openReview()
    const short = h.approvals.waitForDecision(id, { holdMs: 2_000 })
    await vi.advanceTimersByTimeAsync(1_999)
    expect(await peek(short)).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(await peek(short)).toEqual({ outcome: 'timeout' })

    const long = h.approvals.waitForDecision(id, { holdMs: 2 * 3_600_000 })
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(await peek(long)).toMatchObject({ outcome: 'expired', review: { id, state: 'expired' } })
  })

  it('is cancelled by the signal, and stops polling once nobody waits', async () => {
    const id = await openReview()
    const version = vi.spyOn(h.storage.reviews, 'version')
    const abort = new AbortController()
    const waiting = h.approvals.waitForDecision(id, { holdMs: 60_000, signal: abort.signal })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(version.mock.calls.length).toBeGreaterThan(0)
    abort.abort()
    expect(await peek(waiting)).toEqual({ outcome: 'cancelled' })
    const calls = version.mock.calls.length
    await vi.advanceTimersByTimeAsync(10_000)
    expect(version.mock.calls.length).toBe(calls)
    const aborted = new AbortController()
    aborted.abort()
    expect(await h.approvals.waitForDecision(id, { holdMs: 60_000, signal: aborted.signal })).toEqual({ outcome: 'cancelled' })
  })

  it('polls the version once per interval however many requests wait', async () => {
    const version = vi.spyOn(h.storage.reviews, 'version')
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => h.approvals.admit(request('deploy', { model: `m-${i}` }))))
    const waits: Array<Promise<WaitOutcome>> = ids.map((a) => (a.kind === 'approval_required' ? h.approvals.waitForDecision(a.review.id, { holdMs: 5_000 }) : Promise.reject(new Error('no review'))))
    await vi.advanceTimersByTimeAsync(5_000)
    expect((await Promise.all(waits)).every((w) => w.outcome === 'timeout')).toBe(true)
    // 10 polls in 5 s at 500 ms, plus one version read when watching starts.
    expect(version.mock.calls.length).toBeLessThanOrEqual(12)
  })
})

describe('gate', () => {
  it('answers approval_required at once when the rule does not hold', async () => {
    const result = await h.approvals.gate(request('deploy'), {})
    expect(result).toMatchObject({ kind: 'approval_required', waited: 'no_hold', review: { state: 'pending' } })
  })

  it('holds the request until an approval on another replica, then takes the new grant', async () => {
    const other = await h.replica()
    const gated = h.approvals.gate(request('held'), {})
    expect(await peek(gated)).toBe('pending')
    const [review] = (await other.storage.reviews.list({ state: 'pending', limit: 1 })).reviews
    await vi.advanceTimersByTimeAsync(10_000)
    await other.approvals.decide(review?.id ?? '', { decision: 'approved', approver: alice })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await peek(gated)).toMatchObject({ kind: 'granted', grant: { usesLeft: 0, reviewId: review?.id } })
    // `uses: 1` went to the held request: the next one needs a new approval.
    const next = h.approvals.gate(request('held'), {})
    expect(await peek(next)).toBe('pending')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(await peek(next)).toMatchObject({ kind: 'approval_required', waited: 'expired' })
  })

  it('ends the hold with denied when the approver says no', async () => {
    const gated = h.approvals.gate(request('held'), {})
    expect(await peek(gated)).toBe('pending')
    const [review] = (await h.storage.reviews.list({ state: 'pending', limit: 1 })).reviews
    await h.approvals.decide(review?.id ?? '', { decision: 'denied', approver: alice })
    expect(await peek(gated)).toMatchObject({ kind: 'denied', review: { state: 'denied' } })
  })

  it('lets the client disconnect end the hold; the review stays open for a retry', async () => {
    const abort = new AbortController()
    const gated = h.approvals.gate(request('held'), { signal: abort.signal })
    expect(await peek(gated)).toBe('pending')
    abort.abort()
    expect(await peek(gated)).toMatchObject({ kind: 'approval_required', waited: 'cancelled', review: { state: 'pending' } })
    const retry = await h.approvals.admit(request('held'))
    expect(retry).toMatchObject({ kind: 'approval_required', created: false })
  })
})
