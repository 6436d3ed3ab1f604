/**
 * Issue #12 against a running gateway: whatever reaches Claude or the audit went through the same
 * checks, whichever field or shape carried it. Each case failed before its fix.
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isOpaqueMember } from '../../src/masking/request.js'
import { MOCK_PII } from '../../src/mock-upstream/reply-content.js'
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

describe('responses masked wherever content comes back', () => {
  let masked: Stack
  let maskedToken: string
  beforeAll(async () => {
    masked = await startStack({
      configure: (c) => {
        c.masking = { profiles: { default: { detectors: ['email', 'credit-card', 'aws-access-key', 'anthropic-key'] } } }
        ;(c.rules as Record<string, unknown>[])[0] = { ...(c.rules as Record<string, unknown>[])[0], masking: ['default'] }
      },
    })
    maskedToken = await masked.mint()
  })
  afterAll(async () => {
    await masked?.close()
  })
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${masked.url}${path}`, { ...init, headers: { 'x-api-key': maskedToken, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...(init.headers as Record<string, string>) } })
  const leaks = (text: string) => [MOCK_PII.email, MOCK_PII.card, MOCK_PII.awsKey, MOCK_PII.anthropicKey].filter((secret) => text.includes(secret))

  it('batch results: every succeeded message masked line by line; the other lines unchanged', async () => {
    const requests = [
      { custom_id: 'pii', params: { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'MOCK:PII please' }] } },
      { custom_id: 'plain', params: { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] } },
    ]
    const created = (await (await call('/v1/messages/batches', { method: 'POST', body: JSON.stringify({ requests }) })).json()) as { id: string }
    const upstream = await fetch(`${masked.mock.url}/v1/messages/batches/${created.id}/results`, { headers: { 'x-api-key': masked.mock.apiKey, 'anthropic-version': '2023-06-01' } })
    const raw = await upstream.text()
    expect(leaks(raw), raw.slice(0, 300)).not.toEqual([]) // the mock really answers with PII
    const res = await call(`/v1/messages/batches/${created.id}/results`)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(leaks(text)).toEqual([])
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as { custom_id: string; result: { message: { content: { text?: string }[] } } })
    expect(lines.map((l) => l.custom_id)).toEqual(['pii', 'plain'])
    expect(JSON.stringify(lines[0])).toContain('[REDACTED:email]')
    const record = await latestRecord(masked)
    expect(record.maskHits.response.email).toBeGreaterThan(0)
  })

  it('file downloads: text masked while it streams, binary passed and recorded by size and SHA-256', async () => {
    const form = new FormData()
    form.append('file', new Blob([`notes ${MOCK_PII.email} and ${MOCK_PII.card}\n`], { type: 'text/plain' }), 'notes.txt')
    const upload = await fetch(`${masked.url}/v1/files`, { method: 'POST', headers: { 'x-api-key': maskedToken, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'files-api-2025-04-14' }, body: form })
    const textFile = (await upload.json()) as { id: string }
    const text = await (await call(`/v1/files/${textFile.id}/content`, { headers: { 'anthropic-beta': 'files-api-2025-04-14' } })).text()
    expect(text).toBe('notes [REDACTED:email] and [REDACTED:credit-card]\n')

    const binary = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, ...Buffer.from(MOCK_PII.email)])
    const form2 = new FormData()
    form2.append('file', new Blob([binary], { type: 'application/pdf' }), 'out.pdf')
    const pdf = (await (await fetch(`${masked.url}/v1/files`, { method: 'POST', headers: { 'x-api-key': maskedToken, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'files-api-2025-04-14' }, body: form2 })).json()) as { id: string }
    const res = await call(`/v1/files/${pdf.id}/content`, { headers: { 'anthropic-beta': 'files-api-2025-04-14' } })
    expect(Buffer.from(await res.arrayBuffer()).equals(binary)).toBe(true)
    const record = await latestRecord(masked)
    expect(record.response).toMatchObject({ kind: 'opaque', bytes: binary.length, sha256: createHash('sha256').update(binary).digest('hex') })
  })
})

async function latestRecord(s: Stack) {
  const page = await s.gateway.audit.storage.audit.list({ limit: 1 })
  return page.records[0]!
}

describe('custom patterns in the audit copy of requests', () => {
  it('a ticket id matched by the rule’s custom pattern is masked in the stored request', async () => {
    const s = await startStack({
      configure: (c) => {
        c.masking = { profiles: { tickets: { patterns: [{ name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }] } } }
        ;(c.rules as Record<string, unknown>[])[0] = { ...(c.rules as Record<string, unknown>[])[0], masking: ['tickets'] }
      },
    })
    try {
      const res = await fetch(`${s.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': await s.mint(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'close SEC-12345 please' }] }),
      })
      expect(res.status).toBe(200)
      await res.text()
      const record = await latestRecord(s)
      const stored = JSON.stringify(record.request)
      expect(stored).not.toContain('SEC-12345')
      expect(stored).toContain('[REDACTED:ticket]')
      expect(record.maskHits.request.ticket).toBe(1)
    } finally {
      await s.close()
    }
  })
})
