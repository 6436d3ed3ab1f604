/**
 * Issue #14 item 3: a call held for approval survives configuration reloads. The review watcher is
 * the process's, not the configuration's, so a decision made under a newer configuration — long
 * after the replaced one was closed at the end of its (here very short) grace — still wakes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRules, messageBody, startStack, type Stack } from './harness.js'

let stack: Stack
beforeAll(async () => {
  stack = await startStack({
    reloadGraceMs: 50,
    configure: (config) => {
      config.rules = [{ ...structuredClone(defaultRules[0]!), approval: { required: true, grantTtl: '1h', hold: '30s' } }]
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

async function pendingReview(): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const page = await stack.gateway.audit.storage.reviews.list({ state: 'pending', limit: 1 })
    if (page.reviews[0]) return page.reviews[0].id
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('no pending review appeared')
}

describe('a held call across reloads', () => {
  it('completes when approved after two reloads and well past the grace of the configuration it started under', async () => {
    const held = fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      body: messageBody(),
      headers: { 'x-api-key': await stack.mint(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    })
    const reviewId = await pendingReview()
    await stack.gateway.reload(stack.gateway.config)
    await stack.gateway.reload(stack.gateway.config)
    // Both replaced configurations are closed after 50 ms; the call is still held.
    await new Promise((resolve) => setTimeout(resolve, 300))
    await stack.gateway.approvals.decide(reviewId, { decision: 'approved', approver: { id: 'tester', roles: ['approver'] } })
    const res = await held
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('"type":"message"')
  })
})
