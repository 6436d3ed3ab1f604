import { describe, expect, it } from 'vitest'
import { StorageError } from '../../src/storage/errors.js'
import type { NewReview, ReviewApprover, Storage } from '../../src/storage/ports.js'
import type { ContractContext } from './storage-contract.js'

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(StorageError.is(error), `expected a StorageError, got ${String(error)}`).toBe(true)
  expect((error as StorageError).code).toBe(code)
}

const alice: ReviewApprover = { id: 'oidc:alice@example.com', name: '  Alice Example ', issuer: 'https://login.example.com', subject: 'alice' }
const bob: ReviewApprover = { id: 'oidc:bob@example.com', issuer: 'https://login.example.com', subject: 'bob' }

export function approvalContract(ctx: ContractContext): void {
  const review = (overrides: Partial<NewReview> = {}): NewReview => ({
    principal: 'gha:1234567/42',
    rule: 'release-notes',
    fingerprint: 'fp-1',
    summary: { endpoint: 'messages', model: 'claude-sonnet-4-5', skills: ['xlsx'], tools: ['code_execution_20250825'], requestId: 'req_1' },
    requester: { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/app:ref:refs/heads/main' },
    expiresAt: new Date(ctx.clock.t + 3_600_000),
    ...overrides,
  })
  const grantFor = (uses: number | null = null) => ({ expiresAt: new Date(ctx.clock.t + 600_000), uses })

  describe('reviews', () => {
    it('opens a pending review once per principal, rule and fingerprint, across instances', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const first = await a.reviews.create(review())
      expect(first.created).toBe(true)
      expect(first.review).toMatchObject({ state: 'pending', principal: 'gha:1234567/42', rule: 'release-notes', approver: null, grantId: null, decidedAt: null })
      expect(first.review.id).toMatch(/^rev_[0-9A-Z]{26}$/)
      expect(first.review.summary).toEqual(review().summary)
      const retry = await b.reviews.create(review({ summary: { ...review().summary, requestId: 'req_2' } }))
      expect(retry).toMatchObject({ created: false, review: { id: first.review.id } })
      const other = await b.reviews.create(review({ fingerprint: 'fp-2' }))
      expect(other.created).toBe(true)
      expect(await b.reviews.get(first.review.id)).toEqual(first.review)
      expect(await b.reviews.get('rev_01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBeUndefined()
      expect(await b.reviews.get('nonsense')).toBeUndefined()
    })

    it('keeps where each target posted a review message, for every instance; a later save replaces it', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const { review: opened } = await a.reviews.create(review({ fingerprint: 'fp-message' }))
      expect(await b.reviews.findMessage(opened.id, 'slack:C0APPROVALS')).toBeUndefined()
      await a.reviews.saveMessage(opened.id, 'slack:C0APPROVALS', { channel: 'C0APPROVALS', ts: '1700000000.000100' })
      await a.reviews.saveMessage(opened.id, 'slack:C0OTHER', { channel: 'C0OTHER', ts: '1700000000.000200' })
      expect(await b.reviews.findMessage(opened.id, 'slack:C0APPROVALS')).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000100' })
      await b.reviews.saveMessage(opened.id, 'slack:C0APPROVALS', { channel: 'C0APPROVALS', ts: '1700000000.000300' })
      expect(await a.reviews.findMessage(opened.id, 'slack:C0APPROVALS')).toEqual({ channel: 'C0APPROVALS', ts: '1700000000.000300' })
      expect(await a.reviews.findMessage(opened.id, 'slack:C0OTHER')).toEqual({ channel: 'C0OTHER', ts: '1700000000.000200' })
      await rejectsWith(a.reviews.saveMessage(opened.id, 'slack:C0APPROVALS', { channel: '', ts: '1' }), 'invalid')
    })

    it('yields one review when many instances open the same one at once', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).reviews.create(review())))
      expect(new Set(results.map((r) => r.review.id)).size).toBe(1)
      expect(results.filter((r) => r.created)).toHaveLength(1)
    })

    it('approves atomically with its grant, only from pending', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const { review: r } = await a.reviews.create(review())
      const decided = await b.reviews.decide(r.id, { decision: 'approved', approver: alice, reason: 'release day', grant: grantFor(2) })
      expect(decided.review).toMatchObject({ state: 'approved', approver: alice.id, approverName: 'Alice Example', reason: 'release day', decidedAt: ctx.clock.now(), grantId: decided.grant?.id })
      expect(await a.reviews.get(r.id)).toMatchObject({ approver: alice.id, approverName: 'Alice Example' })
      expect(decided.grant).toMatchObject({ principal: r.principal, rule: r.rule, reviewId: r.id, approver: alice.id, usesLeft: 2, revokedAt: null })
      expect(await a.grants.get(decided.grant?.id ?? '')).toEqual(decided.grant)
      await rejectsWith(a.reviews.decide(r.id, { decision: 'denied', approver: bob }), 'conflict')
      await rejectsWith(a.reviews.decide('rev_01ARZ3NDEKTSV4RRFFQ69G5FAV', { decision: 'denied', approver: bob }), 'not_found')
      const { review: next } = await a.reviews.create(review())
      expect(next.id).not.toBe(r.id)
      await rejectsWith(a.reviews.decide(next.id, { decision: 'approved', approver: bob }), 'invalid')
    })

    it('lets exactly one of two concurrent decisions win', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const { review: r } = await a.reviews.create(review())
      const results = await Promise.allSettled([
        a.reviews.decide(r.id, { decision: 'approved', approver: alice, grant: grantFor() }),
        b.reviews.decide(r.id, { decision: 'denied', approver: bob }),
      ])
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1)
      const loser = results.find((x) => x.status === 'rejected')
      expect((loser?.reason as StorageError).code).toBe('conflict')
      // A grant exists exactly when the approval was the one that won.
      const final = await a.reviews.get(r.id)
      const grants = (await a.grants.list({ limit: 10 })).grants
      expect(grants.map((g) => g.reviewId)).toEqual(final?.state === 'approved' ? [r.id] : [])
    })

    it('refuses self-approval by principal, by subject, and by the same issuer and subject', async () => {
      const storage = await ctx.open()
      const { review: r } = await storage.reviews.create(review())
      const grant = grantFor()
      await rejectsWith(storage.reviews.decide(r.id, { decision: 'approved', approver: { id: r.principal }, grant }), 'forbidden')
      await rejectsWith(storage.reviews.decide(r.id, { decision: 'approved', approver: { id: r.requester.subject }, grant }), 'forbidden')
      const sameHuman = { id: 'oidc:someone', issuer: r.requester.issuer, subject: r.requester.subject }
      await rejectsWith(storage.reviews.decide(r.id, { decision: 'approved', approver: sameHuman, grant }), 'forbidden')
      expect((await storage.reviews.get(r.id))?.state).toBe('pending')
      expect((await storage.grants.list({ limit: 10 })).grants).toEqual([])
      // Same subject under another issuer is another identity.
      const otherIssuer = { id: 'oidc:x', issuer: 'https://login.example.com', subject: r.requester.subject }
      expect((await storage.reviews.decide(r.id, { decision: 'denied', approver: otherIssuer, reason: 'not today' })).review).toMatchObject({ state: 'denied', reason: 'not today' })
    })

    it('denies without a grant', async () => {
      const storage = await ctx.open()
      const { review: r } = await storage.reviews.create(review())
      const result = await storage.reviews.decide(r.id, { decision: 'denied', approver: bob })
      expect(result.grant).toBeNull()
      expect(result.review).toMatchObject({ state: 'denied', approver: bob.id, approverName: null, grantId: null, reason: null })
    })

    it('expires pending reviews: read as expired at once, swept by expire(), then replaced', async () => {
      const storage = await ctx.open()
      const { review: r } = await storage.reviews.create(review({ expiresAt: new Date(ctx.clock.t + 60_000) }))
      const { review: later } = await storage.reviews.create(review({ fingerprint: 'fp-later' }))
      ctx.clock.advance(60_000)
      expect((await storage.reviews.get(r.id))?.state).toBe('expired')
      await rejectsWith(storage.reviews.decide(r.id, { decision: 'approved', approver: alice, grant: grantFor() }), 'conflict')
      expect((await storage.reviews.list({ state: 'pending', limit: 10 })).reviews.map((x) => x.id)).toEqual([later.id])
      expect((await storage.reviews.list({ state: 'expired', limit: 10 })).reviews.map((x) => x.id)).toEqual([r.id])
      const fresh = await storage.reviews.create(review())
      expect(fresh.created).toBe(true)
      expect(fresh.review.id).not.toBe(r.id)
      expect(await storage.reviews.expire()).toEqual([])
      const { review: short } = await storage.reviews.create(review({ fingerprint: 'fp-short', expiresAt: new Date(ctx.clock.t + 1_000) }))
      ctx.clock.advance(1_000)
      const swept = await storage.reviews.expire()
      expect(swept.map((x) => [x.id, x.state])).toEqual([[short.id, 'expired']])
      expect(await storage.reviews.expire(ctx.clock.now())).toEqual([])
    })

    it('moves the version on every change and reports changes to other instances', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const v0 = await b.reviews.version()
      const { review: r1 } = await a.reviews.create(review())
      const v1 = await b.reviews.version()
      expect(v1).toBeGreaterThan(v0)
      const { review: r2 } = await a.reviews.create(review({ fingerprint: 'fp-2' }))
      await a.reviews.decide(r1.id, { decision: 'approved', approver: alice, grant: grantFor() })
      const v3 = await b.reviews.version()
      const changed = await b.reviews.changedSince(v1)
      expect(changed.map((x) => [x.id, x.state])).toEqual([
        [r2.id, 'pending'],
        [r1.id, 'approved'],
      ])
      expect(changed.at(-1)?.version).toBe(v3)
      expect(await b.reviews.changedSince(v3)).toEqual([])
      expect((await b.reviews.changedSince(v0, 1)).map((x) => x.id)).toEqual([r2.id])
    })

    it('lists newest first with filters and a cursor', async () => {
      const storage = await ctx.open()
      const ids: string[] = []
      for (let i = 0; i < 7; i++) {
        const principal = i % 2 ? 'gha:1/1' : 'gha:2/2'
        ids.push((await storage.reviews.create(review({ fingerprint: `fp-${i}`, principal, rule: i < 3 ? 'a' : 'b' }))).review.id)
        ctx.clock.advance(1)
      }
      await storage.reviews.decide(ids[0] as string, { decision: 'denied', approver: bob })
      const list = async (q: object) => (await storage.reviews.list({ limit: 100, ...q })).reviews.map((r) => r.id)
      expect(await list({})).toEqual([...ids].reverse())
      expect(await list({ principal: 'gha:1/1' })).toEqual([ids[5], ids[3], ids[1]])
      expect(await list({ rule: 'a', state: 'pending' })).toEqual([ids[2], ids[1]])
      expect(await list({ state: 'denied' })).toEqual([ids[0]])
      const first = await storage.reviews.list({ limit: 4 })
      const second = await storage.reviews.list({ limit: 4, cursor: first.nextCursor ?? undefined })
      expect([...first.reviews, ...second.reviews].map((r) => r.id)).toEqual([...ids].reverse())
      expect(second.nextCursor).toBeNull()
      await rejectsWith(storage.reviews.list({ limit: 4, cursor: 'bogus' }), 'invalid')
      await rejectsWith(storage.reviews.list({ limit: 0 }), 'invalid')
    })
  })

  describe('grants', () => {
    async function approved(storage: Storage, uses: number | null, ttlMs = 600_000, fingerprint = 'fp-g') {
      const { review: r } = await storage.reviews.create(review({ fingerprint }))
      const { grant } = await storage.reviews.decide(r.id, { decision: 'approved', approver: alice, grant: { expiresAt: new Date(ctx.clock.t + ttlMs), uses } })
      return grant as NonNullable<typeof grant>
    }

    it('counts uses down to zero, then is no longer active', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const grant = await approved(a, 2)
      expect((await b.grants.activeFor(grant.principal, grant.rule))?.id).toBe(grant.id)
      expect(await b.grants.activeFor(grant.principal, 'other-rule')).toBeUndefined()
      expect(await a.grants.consume(grant.id)).toBe(true)
      expect(await b.grants.consume(grant.id)).toBe(true)
      expect(await a.grants.consume(grant.id)).toBe(false)
      expect(await b.grants.activeFor(grant.principal, grant.rule)).toBeUndefined()
      expect((await a.grants.get(grant.id))?.usesLeft).toBe(0)
      expect(await a.grants.consume('grt_01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false)
    })

    it('admits exactly n concurrent uses from two instances', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const grant = await approved(a, 5)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).grants.consume(grant.id)))
      expect(results.filter(Boolean)).toHaveLength(5)
    })

    it('ends unlimited grants at their expiry and any grant on revocation', async () => {
      const storage = await ctx.open()
      const unlimited = await approved(storage, null, 60_000)
      for (let i = 0; i < 5; i++) expect(await storage.grants.consume(unlimited.id)).toBe(true)
      expect((await storage.grants.get(unlimited.id))?.usesLeft).toBeNull()
      ctx.clock.advance(60_000)
      expect(await storage.grants.consume(unlimited.id)).toBe(false)
      expect(await storage.grants.activeFor(unlimited.principal, unlimited.rule)).toBeUndefined()

      const other = await approved(storage, 3, 60_000, 'fp-other')
      const revoked = await storage.grants.revoke(other.id, 'admin:ops')
      expect(revoked).toMatchObject({ id: other.id, revokedAt: ctx.clock.now(), revokedBy: 'admin:ops' })
      ctx.clock.advance(5)
      expect(await storage.grants.revoke(other.id, 'admin:later')).toEqual(revoked)
      expect(await storage.grants.consume(other.id)).toBe(false)
      await rejectsWith(storage.grants.revoke('grt_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'x'), 'not_found')
    })

    it('picks the grant expiring first and lists active and inactive ones', async () => {
      const storage = await ctx.open()
      const long = await approved(storage, null, 600_000, 'fp-long')
      const short = await approved(storage, 1, 60_000, 'fp-short')
      expect((await storage.grants.activeFor(long.principal, long.rule))?.id).toBe(short.id)
      await storage.grants.consume(short.id)
      expect((await storage.grants.activeFor(long.principal, long.rule))?.id).toBe(long.id)
      const ids = async (q: object) => (await storage.grants.list({ limit: 10, ...q })).grants.map((g) => g.id)
      expect(await ids({})).toEqual([short.id, long.id])
      expect(await ids({ active: true })).toEqual([long.id])
      expect(await ids({ active: false })).toEqual([short.id])
      expect(await ids({ principal: 'nobody' })).toEqual([])
      const page = await storage.grants.list({ limit: 1 })
      expect(await ids({ cursor: page.nextCursor })).toEqual([long.id])
    })
  })

  describe('approval stores unavailable', () => {
    it('rejects with unavailable after close', async () => {
      const storage = await ctx.open()
      await storage.close()
      await rejectsWith(storage.reviews.create(review()), 'unavailable')
      await rejectsWith(storage.reviews.version(), 'unavailable')
      await rejectsWith(storage.grants.activeFor('p', 'r'), 'unavailable')
      await rejectsWith(storage.counters.increment('k', 'minute', 1), 'unavailable')
    })
  })
}
