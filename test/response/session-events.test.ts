import { describe, expect, it } from 'vitest'
import { parseSseEvent } from '../../src/sse/parse-event.js'
import { allStrings, PLANTED } from '../masking/helpers.js'
import { cut, runResponse, sseText } from './helpers.js'

/**
 * Managed Agents session events (claude-api-2026.md §4) through observe → own → mask: the text of
 * agent messages, tool inputs and tool results masked with the rule's profiles, every other
 * event's bytes untouched, the same answer at every split point of the upstream bytes.
 */
const email = PLANTED.find((p) => p.detector === 'email')!
const card = PLANTED.find((p) => p.detector === 'credit-card')!
const key = PLANTED.find((p) => p.detector === 'anthropic-key')!
const ticket = PLANTED.find((p) => p.detector === 'ticket')!
const planted = [email, card, key, ticket]

const events: Array<readonly [string | undefined, unknown]> = [
  ['session.status_running', { type: 'session.status_running', id: 'sevt_01', processed_at: '2026-04-01T12:00:00Z' }],
  ['agent.message', { type: 'agent.message', id: 'sevt_02', content: [{ type: 'text', text: `Write to ${email.value} about ${ticket.value}.` }], processed_at: '2026-04-01T12:00:01Z' }],
  ['agent.tool_use', { type: 'agent.tool_use', id: 'sevt_03', name: 'bash', input: { command: `curl -H 'x-api-key: ${key.value}' https://example.invalid` } }],
  // No `event:` line: the name defaults to "message" and the data's type says what it is.
  [undefined, { type: 'agent.tool_result', id: 'sevt_04', tool_use_id: 'sevt_03', content: [{ type: 'text', text: `card on file: ${card.value}` }], is_error: false }],
  ['event_delta', { type: 'event_delta', event_id: 'sevt_05', content_delta: { type: 'text', text: email.value.slice(0, 9) } }],
  ['agent.thinking', { type: 'agent.thinking', id: 'sevt_06' }],
  ['session.status_idle', { type: 'session.status_idle', id: 'sevt_07', stop_reason: { type: 'requires_action', event_ids: ['sevt_03'] } }],
]
const upstream = Buffer.from(sseText(events))
const STREAM = '/v1/sessions/sesn_01/events/stream'

function leaks(text: string): string[] {
  return planted.flatMap((p) => [p.value, ...p.fragments].filter((needle) => text.includes(needle)).map(() => p.detector))
}

describe('Managed Agents session events are masked', () => {
  it('masks agent messages, tool inputs and tool results in the stream; keeps other events byte for byte; withholds previews', async () => {
    const { frames, ctx } = await runResponse('GET', STREAM, 'text/event-stream', [upstream])
    const out = frames.map((f) => Buffer.from(f.raw).toString('utf8'))
    expect(leaks(out.join(''))).toEqual([])
    const parsed = frames.map((f) => ({ name: parseSseEvent(f.raw).event, data: JSON.parse(parseSseEvent(f.raw).data) as Record<string, unknown> }))
    expect(parsed.map((p) => p.data.type)).toEqual(['session.status_running', 'agent.message', 'agent.tool_use', 'agent.tool_result', 'agent.thinking', 'session.status_idle'])
    expect(parsed[1]!.data.content).toEqual([{ type: 'text', text: 'Write to [REDACTED:email] about [REDACTED:ticket].' }])
    expect(allStrings(parsed[2]!.data.input)).toEqual(["curl -H 'x-api-key: [REDACTED:anthropic-key]' https://example.invalid"])
    expect(parsed[3]!.name).toBe('message')
    // Events masking did not change leave exactly as the upstream framed them.
    const original = sseText(events).split(/(?<=\n\n)/)
    expect(out[0]).toBe(original[0])
    expect(out[4]).toBe(original[5])
    expect(out[5]).toBe(original[6])
    expect(ctx.responseMaskHits).toEqual({ email: 1, ticket: 1, 'anthropic-key': 1, 'credit-card': 1 })
  })

  it('gives the same events at every split point of the upstream bytes', async () => {
    const whole = (await runResponse('GET', STREAM, 'text/event-stream', [upstream])).frames.map((f) => Buffer.from(f.raw).toString('utf8'))
    for (let k = 1; k < upstream.length; k++) {
      const { frames } = await runResponse('GET', STREAM, 'text/event-stream', cut(upstream, k))
      const out = frames.map((f) => Buffer.from(f.raw).toString('utf8'))
      if (out.join('') !== whole.join('')) expect({ k, out }).toEqual({ k, out: whole })
    }
  })

  it('masks every event of a `GET …/events` page, at every split point of the body', async () => {
    const page = { data: events.map(([, data]) => data).filter((e) => (e as { type: string }).type !== 'event_delta'), has_more: false, next_page: null }
    const body = Buffer.from(JSON.stringify(page))
    let first: string | undefined
    for (let k = 1; k < body.length; k += 1) {
      const { chunks } = await runResponse('GET', '/v1/sessions/sesn_01/events', 'application/json', cut(body, k))
      const text = Buffer.concat(chunks).toString('utf8')
      first ??= text
      if (text !== first) expect({ k, text }).toEqual({ k, text: first })
    }
    expect(leaks(first!)).toEqual([])
    const masked = JSON.parse(first!) as typeof page
    expect(masked.data.map((e) => (e as { type: string }).type)).toEqual(page.data.map((e) => (e as { type: string }).type))
    expect(masked.has_more).toBe(false)
    expect(first).toContain('[REDACTED:credit-card]')
  })

  it('fails closed on a session event whose data is not JSON', async () => {
    const bad = Buffer.from('event: agent.message\ndata: {"type":"agent.message","content":[{"type":"text","text":"cut\n\n')
    await expect(runResponse('GET', STREAM, 'text/event-stream', [bad])).rejects.toMatchObject({ code: 'GW_MASKING_FAILED' })
  })

  it('leaves session events alone when the rule masks nothing', async () => {
    const { frames } = await runResponse('GET', STREAM, 'text/event-stream', [upstream], { forRule: () => undefined, requests: undefined, detectorsForRule: () => [] })
    expect(Buffer.concat(frames.map((f) => f.raw)).equals(upstream)).toBe(true)
  })
})
