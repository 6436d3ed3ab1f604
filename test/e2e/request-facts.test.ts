/**
 * Issue #12 item 1 against a running gateway: the request facts are derived once and the same facts
 * reach the approver, the review fingerprint and the audit record, batches included (an approver
 * once saw `model: null, skills: []` for any batch, and one fingerprint covered every batch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRules, startStack, type Stack } from './harness.js'

let stack: Stack
beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.rules = [{ ...structuredClone(defaultRules[0]!), approval: { required: true, grantTtl: '10m', uses: 1 } }]
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

const entry = (id: string, model: string, skills: string[] = []) => ({
  custom_id: id,
  params: { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...(skills.length ? { container: { skills: skills.map((skill_id) => ({ type: 'anthropic', skill_id })) }, tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] } : {}) },
})

async function submitBatch(requests: unknown[]): Promise<{ status: number; reviewId: string | null; requestId: string | null }> {
  const res = await fetch(`${stack.url}/v1/messages/batches`, {
    method: 'POST',
    headers: { 'x-api-key': await stack.mint(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ requests }),
  })
  await res.arrayBuffer()
  return { status: res.status, reviewId: res.headers.get('skillgate-review-id'), requestId: res.headers.get('skillgate-request-id') }
}

describe('a batch under a rule that requires approval', () => {
  it("the review names the batch's models, skills and tools, and so does its audit record", async () => {
    const batch = await submitBatch([entry('a', 'claude-sonnet-4-6', ['pptx']), entry('b', 'claude-haiku-4-5'), entry('c', 'claude-sonnet-4-6')])
    expect(batch.status).toBe(403)
    const review = await stack.gateway.audit.storage.reviews.get(batch.reviewId!)
    expect(review?.summary).toMatchObject({ endpoint: 'batches', model: 'claude-sonnet-4-6, claude-haiku-4-5', skills: ['anthropic:pptx'], tools: ['code_execution_20250825'] })
    const record = await stack.gateway.audit.storage.audit.get(batch.requestId!)
    expect(record).toMatchObject({ endpoint: 'batches', decision: 'approval_required', model: 'claude-sonnet-4-6, claude-haiku-4-5', skills: ['anthropic:pptx'], tools: ['code_execution_20250825'] })
  })

  it('two different batches open two reviews; the same batch again joins its review', async () => {
    const first = await submitBatch([entry('a', 'claude-sonnet-4-6'), entry('b', 'claude-sonnet-4-6')])
    const again = await submitBatch([entry('x', 'claude-sonnet-4-6'), entry('y', 'claude-sonnet-4-6')])
    const other = await submitBatch([entry('a', 'claude-sonnet-4-6'), entry('b', 'claude-sonnet-4-6'), entry('c', 'claude-sonnet-4-6')])
    const otherModel = await submitBatch([entry('a', 'claude-sonnet-4-6'), entry('b', 'claude-opus-4-8')])
    expect([first.status, again.status, other.status, otherModel.status]).toEqual([403, 403, 403, 403])
    expect(again.reviewId).toBe(first.reviewId)
    expect(new Set([first.reviewId, other.reviewId, otherModel.reviewId]).size).toBe(3)
  })
})
