/**
 * Approvals per tool call (issue #19 item 3), on the real approvals service and SQLite stores: an
 * approval admits only calls with its fingerprint (server, tool, arguments), and `/v1` and tool-call
 * grants never admit each other, even under one rule that requires both.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BoundAdmitInput } from '../../src/approvals/index.js'
import { toolCallFingerprint } from '../../src/mcp/arguments-digest.js'
import { alice, harness, request, type Harness } from '../approvals/helpers.js'

let h: Harness
beforeEach(async () => {
  h = await harness([{ id: 'ops', approval: { required: true, approvers: ['approver'], uses: 2 } }])
})
afterEach(async () => {
  await h.dispose()
})

const call = (args: Record<string, unknown>, tool = 'deploy'): BoundAdmitInput => ({
  rule: 'ops',
  principal: 'gha:1234567/42',
  fingerprint: toolCallFingerprint({ principal: 'gha:1234567/42', rule: 'ops', serverId: 'github', tool, args }),
  requester: { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/app:ref:refs/heads/main' },
  summary: { endpoint: 'mcp.tools.call', model: null, skills: [], tools: [`mcp__github__${tool}`], requestId: 'mcp:1' },
})

describe('fingerprint-bound approvals', () => {
  it('an approved call is admitted again (within its uses); another argument or tool opens a new review', async () => {
    const first = await h.approvals.gateBound(call({ env: 'prod' }), {})
    expect(first).toMatchObject({ kind: 'approval_required', waited: 'no_hold' })
    if (first.kind !== 'approval_required') return
    expect(first.review.rule).toBe('ops#mcp')
    // A retry joins the same review.
    const retry = await h.approvals.gateBound(call({ env: 'prod' }), {})
    expect(retry.kind === 'approval_required' && retry.review.id).toBe(first.review.id)
    const { grant } = await h.approvals.decide(first.review.id, { decision: 'approved', approver: alice })
    expect(grant?.rule).toBe('ops#mcp')
    expect(await h.approvals.gateBound(call({ env: 'prod' }), {})).toMatchObject({ kind: 'granted' })
    const other = await h.approvals.gateBound(call({ env: 'staging' }), {})
    expect(other.kind === 'approval_required' && other.review.id).not.toBe(first.review.id)
    expect(await h.approvals.gateBound(call({ env: 'prod' }, 'destroy'), {})).toMatchObject({ kind: 'approval_required' })
    // The rule's `uses: 2` applies: the second use was the last.
    expect(await h.approvals.gateBound(call({ env: 'prod' }), {})).toMatchObject({ kind: 'granted' })
    expect(await h.approvals.gateBound(call({ env: 'prod' }), {})).toMatchObject({ kind: 'approval_required' })
  })

  it('a tool-call grant never admits a /v1 request, and a /v1 grant never admits a tool call', async () => {
    const tool = await h.approvals.gateBound(call({ env: 'prod' }), {})
    if (tool.kind !== 'approval_required') throw new Error('expected a review')
    await h.approvals.decide(tool.review.id, { decision: 'approved', approver: alice })
    expect(await h.approvals.admit(request('ops'))).toMatchObject({ kind: 'approval_required' })

    const v1 = await h.approvals.admit(request('ops', { requestId: 'req_2' }))
    if (v1.kind !== 'approval_required') throw new Error('expected a review')
    await h.approvals.decide(v1.review.id, { decision: 'approved', approver: alice })
    expect(await h.approvals.gateBound(call({ env: 'staging' }), {})).toMatchObject({ kind: 'approval_required' })
  })
})
