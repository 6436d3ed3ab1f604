/**
 * Issue #12 against a running gateway: whatever reaches Claude or the audit went through the same
 * checks, whichever field or shape carried it. Each case failed before its fix.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isOpaqueMember } from '../../src/masking/request.js'
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

describe('a secret anywhere in the body', () => {
  const SECRET = 'AKIAIOSFODNN7EXAMPLE'
  let guarded: Stack
  let guardedToken: string
  beforeAll(async () => {
    guarded = await startStack({ configure: (c) => void (c.masking = { profiles: {}, requests: { block: ['aws-access-key'] } }) })
    guardedToken = await guarded.mint()
  })
  afterAll(async () => {
    await guarded?.close()
  })

  /** Every string position that is not opaque (src/masking/request.ts), as a setter. */
  function stringSlots(value: unknown, parent?: Record<string, unknown>, key?: string): Array<(text: string) => void> {
    if (typeof value === 'string' && parent && key !== undefined) return isOpaqueMember(parent, key) ? [] : [(text) => void (parent[key] = text)]
    if (Array.isArray(value)) {
      return value.flatMap((item, i) => (typeof item === 'string' ? [(text: string) => void (value[i] = text)] : stringSlots(item)))
    }
    if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => stringSlots(v, value as Record<string, unknown>, k))
    return []
  }

  const block = fc.oneof(
    fc.record({ type: fc.constant('text'), text: fc.string() }),
    fc.record({ type: fc.constant('tool_use'), id: fc.constant('toolu_1'), name: fc.string({ minLength: 1, maxLength: 8 }), input: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })) }),
    fc.record({ type: fc.constant('tool_result'), tool_use_id: fc.constant('toolu_1'), content: fc.string() }),
  )
  const body = fc.record({
    model: fc.constant('claude-sonnet-4-6'),
    max_tokens: fc.constant(16),
    system: fc.string(),
    stop_sequences: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
    tools: fc.array(fc.record({ name: fc.stringMatching(/^[a-z]{1,8}$/), description: fc.string(), input_schema: fc.constant({ type: 'object' }) }), { maxLength: 2 }),
    metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string(), { maxKeys: 2 }),
    messages: fc.tuple(fc.array(block, { minLength: 1, maxLength: 3 }), fc.array(block, { maxLength: 2 })).map(([user, assistant]) => [
      { role: 'user', content: user },
      ...(assistant.length > 0 ? [{ role: 'assistant', content: assistant }, { role: 'user', content: 'go on' }] : []),
    ]),
    future: fc.jsonValue({ maxDepth: 3 }),
  })

  it('is refused, or reaches neither the upstream nor the store (random bodies, random positions)', async () => {
    guarded.mock.reset()
    let refused = 0
    await fc.assert(
      fc.asyncProperty(body, fc.nat(), fc.string({ maxLength: 4 }), async (value, pick, around) => {
        const slots = stringSlots(value)
        const slot = slots[pick % slots.length]!
        slot(`${around} ${SECRET} ${around}`)
        const res = await fetch(`${guarded.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': guardedToken, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(value) })
        await res.arrayBuffer()
        if (res.status === 400) refused++
      }),
      { numRuns: 60 },
    )
    expect(refused).toBeGreaterThan(0)
    expect(JSON.stringify(guarded.mock.requests.map((r) => r.body.toString()))).not.toContain(SECRET)
    for await (const record of guarded.gateway.audit.storage.audit.iterate()) {
      const text = JSON.stringify(record)
      const at = text.indexOf(SECRET)
      expect(at === -1 ? "" : text.slice(Math.max(0, at - 300), at + 40)).toBe("")
    }
  })
})
