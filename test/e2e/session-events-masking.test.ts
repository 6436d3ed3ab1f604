import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_PII } from '../../src/mock-upstream/index.js'
import { startStack, type Stack } from './harness.js'

/**
 * Managed Agents session events through a running gateway (issue #15): the events stream and the
 * events list come back with the rule's masking applied, whatever the upstream's write boundaries,
 * and previews withheld; events without content leave unchanged.
 */
const events = [
  { type: 'session.status_running', id: 'sevt_1', processed_at: '2026-04-01T12:00:00Z' },
  { type: 'agent.message', id: 'sevt_2', content: [{ type: 'text', text: `Mail ${MOCK_PII.email} about ${MOCK_PII.ticket}.` }] },
  { type: 'event_delta', event_id: 'sevt_3', content_delta: { type: 'text', text: MOCK_PII.email.slice(0, 6) } },
  { type: 'agent.tool_result', id: 'sevt_4', tool_use_id: 'sevt_9', content: [{ type: 'text', text: `card ${MOCK_PII.card}` }] },
  { type: 'session.status_idle', id: 'sevt_5', stop_reason: { type: 'end_turn' } },
]
const stream = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')

let upstream: Server
let stack: Stack
let token: string

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/v1/sessions/sesn_1/events/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // Seven-byte writes: secrets and events cut across the upstream's chunks.
      const bytes = Buffer.from(stream)
      for (let i = 0; i < bytes.length; i += 7) res.write(bytes.subarray(i, i + 7))
      res.end()
    } else if (req.url?.startsWith('/v1/sessions/sesn_1/events')) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ data: events.filter((e) => e.type !== 'event_delta'), next_page: null }))
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"not_found_error","message":"no"}}')
    }
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  stack = await startStack({
    upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    configure: (config) => {
      config.masking = {
        profiles: {
          default: { detectors: ['email', 'credit-card'] },
          tickets: { patterns: [{ name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }] },
        },
      }
      const rule = (config.rules as Array<{ allow: { endpoints: string[] }; masking?: string[] }>)[0]!
      rule.masking = ['default', 'tickets']
      rule.allow.endpoints.push('sessions')
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
  // Sessions are owned per principal: this one was created outside this gateway, so an operator assigns it.
  await stack.gateway.audit.storage.owners.assign({ kind: 'session', id: 'sesn_1' }, { principal: 'ci:1234567/42', rule: 'ci-app' }, 'test')
})
afterAll(async () => {
  await stack?.close()
  await new Promise((resolve) => upstream?.close(resolve))
})

const get = (path: string) => fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'managed-agents-2026-04-01' } })

describe('session events through the gateway', () => {
  it('masks the events stream; previews withheld; other events unchanged', async () => {
    const res = await get('/v1/sessions/sesn_1/events/stream')
    expect(res.status).toBe(200)
    const text = await res.text()
    for (const secret of [MOCK_PII.email, MOCK_PII.card, MOCK_PII.ticket, MOCK_PII.email.slice(0, 6)]) expect(text).not.toContain(secret)
    expect(text).toContain('[REDACTED:email]')
    expect(text).toContain('[REDACTED:credit-card]')
    expect(text).not.toContain('event_delta')
    expect(text.startsWith(`event: session.status_running\ndata: ${JSON.stringify(events[0])}\n\n`)).toBe(true)
    expect(text.endsWith(`event: session.status_idle\ndata: ${JSON.stringify(events[4])}\n\n`)).toBe(true)
  })

  it('masks the events list', async () => {
    const res = await get('/v1/sessions/sesn_1/events?limit=20')
    expect(res.status).toBe(200)
    const page = (await res.json()) as { data: Array<{ type: string; content?: Array<{ text: string }> }> }
    expect(page.data.map((e) => e.type)).toEqual(['session.status_running', 'agent.message', 'agent.tool_result', 'session.status_idle'])
    expect(page.data[1]!.content![0]!.text).toBe('Mail [REDACTED:email] about [REDACTED:ticket].')
    expect(page.data[2]!.content![0]!.text).toBe('card [REDACTED:credit-card]')
  })
})
