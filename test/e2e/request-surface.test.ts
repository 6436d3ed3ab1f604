/**
 * Issue #12 against a running gateway: whatever reaches Claude or the audit went through the same
 * checks, whichever field or shape carried it. Each case failed before its fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from './harness.js'

let stack: Stack
let token: string
beforeAll(async () => {
  stack = await startStack()
  token = await stack.mint()
})
afterAll(async () => {
  await stack?.close()
})

const post = (path: string, body: string) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body })

describe('duplicate JSON members', () => {
  it.each([
    ['top-level model', '{"model":"claude-sonnet-4-6","max_tokens":16,"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}', 'model'],
    ['inside a message', '{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi","content":"other"}]}', 'messages[0].content'],
    ['inside a tool', '{"model":"claude-sonnet-4-6","max_tokens":16,"tools":[{"name":"a","name":"b","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}', 'tools[0].name'],
  ])('%s: 400 naming the member, nothing forwarded', async (_case, body, member) => {
    stack.mock.reset()
    const res = await post('/v1/messages', body)
    expect(res.status).toBe(400)
    const json = (await res.json()) as { error: { type: string; message: string } }
    expect(json.error.type).toBe('invalid_request_error')
    expect(json.error.message).toContain(`duplicate member name ${member}`)
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('the same body without the repeat passes', async () => {
    stack.mock.reset()
    const res = await post('/v1/messages', '{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}')
    expect(res.status).toBe(200)
    expect(stack.mock.requests).toHaveLength(1)
  })
})
