import { afterEach, expect, it } from 'vitest'
import { createApprovals, type Approvals } from '../../src/approvals/index.js'
import { counterKey, createLimiter } from '../../src/limits/index.js'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Storage } from '../../src/storage/ports.js'
import { createTestSchema, describePostgres, postgresTestUrl } from '../contract/postgres-env.js'
import { alice, request } from './helpers.js'

/**
 * SPEC §7 on the multi-replica store, in real time: two gateways (two Storage pools, two Approvals)
 * on one PostgreSQL schema. Follows the contract suite's rule: fails under CI=true without
 * PostgreSQL, skipped elsewhere.
 */
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function replicas(n: number, pollMs?: number): Promise<Array<{ storage: Storage; approvals: Approvals }>> {
  const { schema, drop } = await createTestSchema()
  cleanup.push(drop)
  const out: Array<{ storage: Storage; approvals: Approvals }> = []
  for (let i = 0; i < n; i++) {
    const storage = await openStorage(postgresTestUrl, { schema, poolSize: 4 })
    await storage.migrate()
    const approvals = createApprovals({ reviews: storage.reviews, grants: storage.grants, rules: [{ id: 'held', approval: { required: true, hold: 30_000, uses: 1 } }], sweepMs: 0, pollMs })
    cleanup.push(() => storage.close(), () => approvals.close())
    out.push({ storage, approvals })
  }
  return out
}

await describePostgres('approvals and limits across PostgreSQL replicas', () => {
  it('releases a request held on one replica within a second of an approval on another', async () => {
    const [a, b] = await replicas(2)
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const gated = a.approvals.gate(request('held'), {})
    let review: string | undefined
    while (review === undefined) {
      review = (await b.storage.reviews.list({ state: 'pending', limit: 1 })).reviews[0]?.id
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const decidedAt = Date.now()
    await b.approvals.decide(review, { decision: 'approved', approver: alice })
    const result = await gated
    expect(result).toMatchObject({ kind: 'granted', grant: { reviewId: review, usesLeft: 0 } })
    expect(Date.now() - decidedAt).toBeLessThan(1_000)
  })

  it('fans a decision out by LISTEN/NOTIFY: wakes a held request at once even with a one-minute poll', async () => {
    const [a, b] = await replicas(2, 60_000)
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const gated = a.approvals.gate(request('held'), {})
    let review: string | undefined
    while (review === undefined) {
      review = (await b.storage.reviews.list({ state: 'pending', limit: 1 })).reviews[0]?.id
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // Let the LISTEN connection settle, then decide on the other replica.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const decidedAt = Date.now()
    await b.approvals.decide(review, { decision: 'approved', approver: alice })
    expect(await gated).toMatchObject({ kind: 'granted', grant: { reviewId: review } })
    expect(Date.now() - decidedAt, 'woken by the notification, not by the 60 s poll').toBeLessThan(2_000)
  })

  it('enforces one request rate and one stream limit across replicas', async () => {
    const [a, b] = await replicas(2)
    if (a === undefined || b === undefined) throw new Error('two replicas')
    const limiters = [createLimiter({ counters: a.storage.counters }), createLimiter({ counters: b.storage.counters })]
    const subject = { principal: 'gha:1/2', rule: 'held' }
    const limits = { requestsPerMinute: 1_000, concurrentStreams: 3 }
    const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => limiters[i % 2]!.checkBefore(subject, limits, { streaming: true })))
    const held = verdicts.filter((v) => v.ok)
    expect(held).toHaveLength(3)
    for (const v of held) if (v.ok) await v.slot?.release()
    // Each replica sees the other's increments once flushed (within a second; at once here).
    await Promise.all([a.storage.counters.flush(), b.storage.counters.flush()])
    expect((await a.storage.counters.get(counterKey('rpm', subject), 'minute')).value).toBe(12)
  })
})
