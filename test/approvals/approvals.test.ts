import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApprovalError, approvalSettings, requestFingerprint } from '../../src/approvals/index.js'
import { alice, harness, request, start, useFakeClock, type Harness } from './helpers.js'

const rules = [
  { id: 'plain' },
  { id: 'deploy', approval: { required: true, grantTtl: 3_600_000 } },
  { id: 'once', approval: { required: true, uses: 1 } },
  { id: 'release', approval: { required: true, approvers: ['release-managers'], grantTtl: 600_000, uses: 2 } },
]

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  return error instanceof ApprovalError ? error.code : `not an ApprovalError: ${String(error)}`
}

let h: Harness
beforeEach(async () => {
  useFakeClock()
  h = await harness(rules)
})
afterEach(async () => {
  await h.dispose()
  vi.useRealTimers()
})

describe('settings', () => {
  it('defaults to the approver role, a one-hour grant with any number of uses, no hold, a one-hour review', () => {
    expect(approvalSettings({ required: true })).toEqual({ required: true, approverRoles: ['approver'], grantTtlMs: 3_600_000, uses: null, holdMs: 0, reviewTtlMs: 3_600_000 })
    expect(approvalSettings({ required: true, hold: 120_000 }).reviewTtlMs).toBe(120_000)
    expect(approvalSettings(undefined).required).toBe(false)
  })

  it('fingerprints who asks for what, not the request id', () => {
    const a = request('deploy').summary
    const fp = (s: typeof a) => requestFingerprint('p', 'deploy', s)
    expect(fp({ ...a, requestId: 'other' })).toBe(fp(a))
    expect(fp({ ...a, skills: [...a.skills].reverse() })).toBe(fp(a))
    expect(fp({ ...a, model: 'claude-opus-4-1' })).not.toBe(fp(a))
    expect(requestFingerprint('q', 'deploy', a)).not.toBe(fp(a))
  })
})

describe('admit', () => {
  it('lets rules without approval and non-allow decisions through untouched', async () => {
    expect(await h.approvals.admit(request('plain'))).toEqual({ kind: 'not_required' })
    expect(await h.approvals.admit({ ...request('deploy'), decision: { effect: 'deny', rule: 'deploy', reasons: [] } })).toEqual({ kind: 'not_required' })
    expect(await h.approvals.admit(request('unknown-rule'))).toEqual({ kind: 'not_required' })
    expect(h.events).toEqual([])
  })

  it('opens one review per request shape; retries join it without a new notification', async () => {
    const first = await h.approvals.admit(request('deploy'))
    expect(first).toMatchObject({ kind: 'approval_required', created: true, review: { state: 'pending', rule: 'deploy', principal: 'gha:1234567/42' } })
    if (first.kind !== 'approval_required') throw new Error('unreachable')
    expect(first.review.expiresAt.getTime()).toBe(start + 3_600_000)
    const retry = await h.approvals.admit(request('deploy', { requestId: 'req_2' }))
    expect(retry).toMatchObject({ kind: 'approval_required', created: false, review: { id: first.review.id } })
    const other = await h.approvals.admit(request('deploy', { model: 'claude-haiku-4-5' }))
    expect(other).toMatchObject({ kind: 'approval_required', created: true })
    expect(h.events.map((e) => e.type)).toEqual(['review.created', 'review.created'])
  })

  it('passes on a grant after approval, one use per request, until the uses run out', async () => {
    const asked = await h.approvals.admit(request('once'))
    if (asked.kind !== 'approval_required') throw new Error('expected a review')
    const { grant } = await h.approvals.decide(asked.review.id, { decision: 'approved', approver: alice, reason: 'ok' })
    expect(grant).toMatchObject({ usesLeft: 1, expiresAt: new Date(start + 3_600_000), approver: alice.id })
    expect(await h.approvals.admit(request('once'))).toMatchObject({ kind: 'granted', grant: { id: grant?.id, usesLeft: 0 } })
    const after = await h.approvals.admit(request('once'))
    expect(after).toMatchObject({ kind: 'approval_required', created: true })
    expect(h.events.map((e) => e.type)).toEqual(['review.created', 'review.decided', 'review.created'])
  })

  it('ends a grant at its TTL', async () => {
    const asked = await h.approvals.admit(request('deploy'))
    if (asked.kind !== 'approval_required') throw new Error('expected a review')
    await h.approvals.decide(asked.review.id, { decision: 'approved', approver: alice })
    vi.setSystemTime(start + 3_599_999)
    expect((await h.approvals.admit(request('deploy'))).kind).toBe('granted')
    vi.setSystemTime(start + 3_600_000)
    expect((await h.approvals.admit(request('deploy'))).kind).toBe('approval_required')
  })
})

describe('decide', () => {
  it('refuses unknown, non-approver, self-approval and already decided', async () => {
    const asked = await h.approvals.admit(request('release'))
    if (asked.kind !== 'approval_required') throw new Error('expected a review')
    const id = asked.review.id
    expect(await refusal(h.approvals.decide('rev_01ARZ3NDEKTSV4RRFFQ69G5FAV', { decision: 'approved', approver: alice }))).toBe('not_found')
    // `release` names its own approver role; the default role is not enough there.
    expect(await refusal(h.approvals.decide(id, { decision: 'approved', approver: alice }))).toBe('not_approver')
    const manager = { ...alice, roles: ['release-managers'] }
    expect(await refusal(h.approvals.decide(id, { decision: 'approved', approver: { ...manager, id: 'gha:1234567/42' } }))).toBe('self_approval')
    const sameIdentity = { ...manager, issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/app:ref:refs/heads/main' }
    expect(await refusal(h.approvals.decide(id, { decision: 'approved', approver: sameIdentity }))).toBe('self_approval')
    const { grant } = await h.approvals.decide(id, { decision: 'approved', approver: manager })
    expect(grant).toMatchObject({ usesLeft: 2, expiresAt: new Date(start + 600_000) })
    expect(await refusal(h.approvals.decide(id, { decision: 'denied', approver: manager }))).toBe('not_pending')
    expect(h.events.filter((e) => e.type === 'review.decided')).toHaveLength(1)
  })

  it('refuses a review that expired before the decision and sweeps it with a notification', async () => {
    const asked = await h.approvals.admit(request('deploy'))
    if (asked.kind !== 'approval_required') throw new Error('expected a review')
    vi.setSystemTime(start + 3_600_000)
    expect(await refusal(h.approvals.decide(asked.review.id, { decision: 'approved', approver: alice }))).toBe('not_pending')
    const swept = await h.approvals.sweep()
    expect(swept.map((r) => r.id)).toEqual([asked.review.id])
    expect(h.events.at(-1)).toMatchObject({ type: 'review.expired', review: { id: asked.review.id, state: 'expired' } })
    expect(await h.approvals.sweep()).toEqual([])
  })
})
