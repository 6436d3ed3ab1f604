import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_PII } from '../../src/mock-upstream/index.js'
import { startStack, type Stack } from './harness.js'

/**
 * SPEC §6 end to end: the official SDK's `messages.stream()` through the gateway receives a
 * well-formed stream whose assembled text has every planted secret replaced, however the upstream
 * splits its deltas; requests carrying a blocked secret never leave; the audit keeps masked
 * content only.
 */
let stack: Stack
let token: string

const secrets = Object.values(MOCK_PII)
const text = `Customer ${MOCK_PII.email} paid with ${MOCK_PII.card}; key ${MOCK_PII.anthropicKey} and ${MOCK_PII.awsKey}, see ${MOCK_PII.ticket}. Done.`
const masked = 'Customer [REDACTED:email] paid with [REDACTED:credit-card]; key [REDACTED:anthropic-key] and [REDACTED:aws-access-key], see [REDACTED:ticket]. Done.'

beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.masking = {
        profiles: {
          default: { detectors: ['email', 'phone', 'credit-card', 'iban', 'aws-access-key', 'github-token', 'anthropic-key', 'jwt', 'private-key', 'ipv4'] },
          tickets: { patterns: [{ name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }] },
        },
        requests: { block: ['aws-access-key', 'private-key', 'anthropic-key'] },
      }
      ;(config.rules as Array<Record<string, unknown>>)[0]!.masking = ['default', 'tickets']
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
})
afterAll(async () => {
  await stack.close()
})

const client = () => new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 })

describe('masking through the official SDK', () => {
  it('replaces every planted secret in a stream, for every alignment of the upstream deltas', async () => {
    for (const size of [1, 2, 3, 5, 8, 13]) {
      for (let pad = 0; pad < size; pad++) {
        const reply = `${'.'.repeat(pad)}${text}`
        const seen: string[] = []
        const stream = client().messages.stream(
          { model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'tell me' }] },
          { headers: { 'mock-reply-text': encodeURIComponent(reply), 'mock-delta-size': String(size) } },
        )
        stream.on('text', (delta) => seen.push(delta))
        const message = await stream.finalMessage()
        const assembled = seen.join('')
        expect(assembled, `delta size ${size}, offset ${pad}`).toBe(`${'.'.repeat(pad)}${masked}`)
        expect(message.content[0]).toMatchObject({ type: 'text', text: assembled })
        for (const secret of secrets) for (const delta of seen) expect(delta).not.toContain(secret.slice(0, 12))
      }
    }
  })

  it('masks a non-streaming JSON message and keeps unchanged ones byte for byte', async () => {
    const message = await client().messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'mock-reply-text': encodeURIComponent(text) } },
    )
    expect(message.content[0]).toMatchObject({ type: 'text', text: masked })
    const plain = await client().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] })
    expect(plain.content[0]).toMatchObject({ text: 'Hello from the mock upstream.' })
  })

  it('masks tool input streamed as input_json_delta without breaking the JSON', async () => {
    const message = await client()
      .messages.stream({
        model: 'claude-sonnet-4-6',
        max_tokens: 256,
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { email: { type: 'string' } } } }],
        tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: 'MOCK:PII' }],
      })
      .finalMessage()
    const tool = message.content.find((b) => b.type === 'tool_use') as { input: Record<string, unknown> } | undefined
    expect(tool).toBeDefined()
    expect(JSON.stringify(tool!.input)).not.toContain(MOCK_PII.email)
    expect(JSON.stringify(tool!.input)).toContain('[REDACTED:email]')
  })

  it('refuses a request carrying a blocked secret with 400 before anything leaves', async () => {
    stack.mock.reset()
    const request = client().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: `deploy with ${MOCK_PII.awsKey}` }] })
    await expect(request).rejects.toBeInstanceOf(Anthropic.BadRequestError)
    await expect(request).rejects.toMatchObject({ status: 400, message: expect.stringContaining('aws-access-key at messages[0].content') })
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('keeps only masked content in the audit, with hits per detector', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'mock-reply-text': encodeURIComponent(text), 'mock-delta-size': '4' },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, stream: true, messages: [{ role: 'user', content: `mail me at ${MOCK_PII.email}` }] }),
    })
    await res.text()
    const record = await stack.gateway.audit.storage.audit.get(res.headers.get('skillgate-request-id')!)
    const stored = JSON.stringify(record)
    for (const secret of secrets) expect(stored).not.toContain(secret)
    const metrics = await (await fetch(`${stack.url}/metrics`)).text()
    expect(metrics).toMatch(/skillgate_mask_hits_total\{detector="ticket",direction="response"\} [1-9]/)
    expect(record?.maskHits).toEqual({ request: { email: 1 }, response: { email: 1, 'credit-card': 1, 'anthropic-key': 1, 'aws-access-key': 1, ticket: 1 } })
  })
})
