import { afterEach, describe, expect, it, vi } from 'vitest'
import { compose } from '../../src/pipeline/compose.js'
import type { RequestContext } from '../../src/pipeline/context.js'
import { ObservedFrame } from '../../src/response/observed-frame.js'
import { ownResponses } from '../../src/stages/own-responses.js'
import { maskResponse } from '../../src/stages/mask-response.js'
import type { SseFrame } from '../../src/pipeline/response.js'
import { jsonOf, rememberJson } from '../../src/response/observed-json.js'
import { PLANTED } from '../masking/helpers.js'
import { cut, defaultMasking, runResponse, sseText } from './helpers.js'

/**
 * The one response observer (issue #15): each SSE event and each JSON answer is parsed once and
 * shared by own-responses, mask-response, the usage for budgets and audit-close; bytes are
 * re-framed only when masking changed an event.
 */
const email = PLANTED.find((p) => p.detector === 'email')!
const card = PLANTED.find((p) => p.detector === 'credit-card')!
const secretText = `mail ${email.value}, card ${card.value}. done.`
const usageStart = { input_tokens: 120, output_tokens: 1 }
const usageEnd = { output_tokens: 77, iterations: [{ type: 'message', input_tokens: 120, output_tokens: 40 }, { type: 'message', input_tokens: 180, output_tokens: 37 }] }
const message = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: usageStart }

const events: Array<readonly [string, Record<string, unknown>]> = [
  ['message_start', { type: 'message_start', message }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'bash_code_execution_tool_result', tool_use_id: 'srvtoolu_1', content: { type: 'bash_code_execution_result', stdout: 'ok', stderr: '', return_code: 0, content: [{ type: 'bash_code_execution_output', file_id: 'file_out_1' }] } } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['ping', { type: 'ping' }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }],
  ...secretText.match(/.{1,7}/gs)!.map((part) => ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: part } }] as const),
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null, container: { id: 'container_1', expires_at: '2026-12-07T03:00:00Z' } }, usage: usageEnd }],
  ['message_stop', { type: 'message_stop' }],
]
const upstream = Buffer.from(sseText(events))
const upstreamFrames = sseText(events).split(/(?<=\n\n)/)

afterEach(() => vi.restoreAllMocks())

describe('the response observer on a Messages stream', () => {
  it('parses each event once for every stage, audit included', async () => {
    await runResponse('POST', '/v1/messages', 'text/event-stream', [upstream]) // compiles the masker first
    const parse = vi.spyOn(JSON, 'parse')
    const { completions } = await runResponse('POST', '/v1/messages', 'text/event-stream', [upstream])
    // One parse per upstream event; the audit's assembler and log reuse it (and masking's events).
    expect(parse.mock.calls.length).toBe(events.length)
    expect(completions).toHaveLength(1)
  })

  it('masks, forwards unchanged events as the very bytes received, and re-frames only what changed', async () => {
    const { frames } = await runResponse('POST', '/v1/messages', 'text/event-stream', [upstream])
    const out = frames.map((f) => Buffer.from(f.raw).toString('utf8'))
    const text = out.join('')
    expect(text).not.toContain(email.value)
    expect(text).not.toContain(card.value)
    expect(text).toContain('[REDACTED:email]')
    for (const frame of frames) {
      const observed = frame as ObservedFrame
      if (!observed.changed) expect(upstreamFrames).toContain(Buffer.from(frame.raw).toString('utf8'))
    }
    expect(out.slice(0, 5)).toEqual(upstreamFrames.slice(0, 5))
    expect(out.slice(-2)).toEqual(upstreamFrames.slice(-2))
  })

  it('derives usage (with iterations) for budgets, owners of the container and output file, and the audit from the same parse', async () => {
    const { ctx, recorded, completions } = await runResponse('POST', '/v1/messages', 'text/event-stream', [upstream])
    expect(ctx.usage).toEqual({ ...usageStart, ...usageEnd })
    expect(recorded.map((o) => `${o.kind}:${o.id}`).sort()).toEqual(['container:container_1', 'file:file_out_1'])
    const completion = completions[0]!
    expect(completion.outcome).toBe('completed')
    expect(completion.containerId).toBe('container_1')
    const response = completion.response
    if (response?.kind !== 'sse') throw new Error('expected an SSE record')
    const blocks = (response.message as { content: Array<{ text?: string }> }).content
    expect(blocks[1]!.text).toBe(`mail [REDACTED:email], card [REDACTED:credit-card]. done.`)
    expect(JSON.stringify(response.events)).not.toContain(email.value)
  })

  it('gives the client and the audit the same answer at every split point of the upstream bytes', async () => {
    const reference = await runResponse('POST', '/v1/messages', 'text/event-stream', [upstream])
    const expected = Buffer.concat(reference.frames.map((f) => f.raw)).toString('utf8')
    const expectedMessage = JSON.stringify((reference.completions[0]!.response as { message: unknown }).message)
    for (let k = 1; k < upstream.length; k++) {
      const run = await runResponse('POST', '/v1/messages', 'text/event-stream', cut(upstream, k))
      const got = Buffer.concat(run.frames.map((f) => f.raw)).toString('utf8')
      if (got !== expected) expect({ k, got }).toEqual({ k, got: expected })
      const assembled = JSON.stringify((run.completions[0]!.response as { message: unknown }).message)
      if (assembled !== expectedMessage) expect({ k, assembled }).toEqual({ k, assembled: expectedMessage })
      expect(run.ctx.usage).toEqual({ ...usageStart, ...usageEnd })
    }
  })
})

describe('the response observer on a JSON answer', () => {
  const answer = {
    ...message,
    content: [{ type: 'text', text: secretText }],
    container: { id: 'container_2', expires_at: '2026-12-07T03:00:00Z' },
    usage: { input_tokens: 9, output_tokens: 30 },
  }
  const body = Buffer.from(JSON.stringify(answer))

  it('parses the body once for owners, masking, usage and the audit, at every split point', async () => {
    for (const k of [0, 1, 17, body.length >> 1, body.length - 1]) {
      const parse = vi.spyOn(JSON, 'parse')
      const { chunks, ctx, recorded, completions } = await runResponse('POST', '/v1/messages', 'application/json', k === 0 ? [body] : cut(body, k))
      expect(parse.mock.calls.length).toBe(1)
      parse.mockRestore()
      const sent = Buffer.concat(chunks).toString('utf8')
      expect(sent).not.toContain(email.value)
      expect(ctx.usage).toEqual(answer.usage)
      expect(recorded.map((o) => o.id)).toEqual(['container_2'])
      const response = completions[0]!.response
      if (response?.kind !== 'json') throw new Error('expected a JSON record')
      // The audit records what the client received: the masked value, not the upstream's.
      expect(JSON.stringify(response.body)).toBe(sent)
    }
  })

  it('passes a clean answer on as the very buffer received', async () => {
    const clean = Buffer.from(JSON.stringify({ ...answer, content: [{ type: 'text', text: 'nothing secret' }] }))
    const { chunks } = await runResponse('POST', '/v1/messages', 'application/json', [clean])
    expect(chunks).toHaveLength(1)
    expect(chunks[0]).toBe(clean)
  })
})

describe('ObservedFrame and jsonOf', () => {
  it('parse lazily, once, and frame made events only when their bytes are asked for', () => {
    const raw = Buffer.from('event: ping\ndata: {"type":"ping"}\n\n')
    const frame = ObservedFrame.fromRaw(raw)
    expect(frame.raw).toBe(raw)
    const parse = vi.spyOn(JSON, 'parse')
    expect(frame.json).toEqual({ type: 'ping' })
    expect(frame.json).toBe(frame.json)
    expect(parse).toHaveBeenCalledTimes(1)
    expect(ObservedFrame.of(frame)).toBe(frame)
    const made = ObservedFrame.fromEvent('content_block_delta', { type: 'content_block_delta', text: 'a\nb' })
    expect(made.changed).toBe(true)
    expect(Buffer.from(made.raw).toString()).toBe('event: content_block_delta\ndata: {"type":"content_block_delta","text":"a\\nb"}\n\n')
    expect(made.mentions(Buffer.from('"text"'))).toBe(true)
    const broken = ObservedFrame.fromRaw(Buffer.from('data: {cut\n\n'))
    expect(broken.json).toBeUndefined()
    expect(broken.hasJson).toBe(false)
    expect(ObservedFrame.fromRaw(Buffer.from('data: null\n\n')).hasJson).toBe(true)
    expect(() => ObservedFrame.fromEvent('x\nevent: evil', {}).raw).toThrow()
  })

  it('jsonOf shares one parse per buffer and knows the value of bytes a stage made', () => {
    const bytes = Buffer.from('{"a":1}')
    const parse = vi.spyOn(JSON, 'parse')
    expect(jsonOf(bytes)).toBe(jsonOf(bytes))
    expect(parse).toHaveBeenCalledTimes(1)
    const value = { b: 2 }
    expect(jsonOf(rememberJson(Buffer.from('{"b":2}'), value))).toBe(value)
    expect(jsonOf(Buffer.from('{cut'))).toBeUndefined()
    expect(parse).toHaveBeenCalledTimes(2)
  })
})

describe('own-responses looks before it parses', () => {
  const owned = async (contentType: string, body: Buffer) => {
    const recorded: string[] = []
    const owners = { owners: async () => new Map(), record: async (objects: ReadonlyArray<{ kind: string; id: string }>) => void recorded.push(...objects.map((o) => `${o.kind}:${o.id}`)) }
    const sse = contentType === 'text/event-stream'
    async function* chunks() {
      yield body
    }
    async function* frames() {
      for (const raw of body.toString().split(/(?<=\n\n)/)) yield [ObservedFrame.fromRaw(Buffer.from(raw))]
    }
    const ctx = {
      method: 'POST', path: '/v1/messages', endpoint: { name: 'messages' }, decision: { rule: 'ci', principal: 'p1' },
      response: { status: 200, headers: { 'content-type': contentType }, body: sse ? { kind: 'sse', frames: frames() } : { kind: 'bytes', chunks: chunks() } },
    } as unknown as RequestContext
    const parse = vi.spyOn(JSON, 'parse')
    await compose([ownResponses(owners), async (c, next) => {
      const out = c.response!.body
      if (out.kind === 'sse') for await (const group of out.frames) void group
      else for await (const chunk of out.chunks) void chunk
      return next()
    }])(ctx)
    const parses = parse.mock.calls.length
    parse.mockRestore()
    return { recorded, parses }
  }

  it('does not parse an answer or event whose only container is null', async () => {
    expect(await owned('application/json', Buffer.from(JSON.stringify({ ...message, container: null })))).toEqual({ recorded: [], parses: 0 })
    expect(await owned('application/json', Buffer.from(`{"id":"msg_1","container" :\n null}`))).toEqual({ recorded: [], parses: 0 })
    const stream = sseText([['message_start', { type: 'message_start', message: { ...message, container: null } }], ['message_delta', { type: 'message_delta', delta: { container: null } }]])
    expect(await owned('text/event-stream', Buffer.from(stream))).toEqual({ recorded: [], parses: 0 })
  })

  it('still records a container named after a null one, and one named any other way', async () => {
    const body = `{"content":[{"type":"tool_use","input":{"container":null}}],"container":{"id":"container_3"}}`
    expect((await owned('application/json', Buffer.from(body))).recorded).toEqual(['container:container_3'])
    const stream = sseText([['message_delta', { type: 'message_delta', delta: { container: null, stop_reason: 'end_turn' } }], ['message_delta', { type: 'message_delta', delta: { container: { id: 'container_4' } } }]])
    expect((await owned('text/event-stream', Buffer.from(stream))).recorded).toEqual(['container:container_4'])
  })
})

describe('events in the groups they arrived in', () => {
  it('a masking failure inside a group still passes on what was masked before it, then fails', async () => {
    const good = Buffer.from(sseText(events.slice(0, 2)))
    const bad = Buffer.from('event: content_block_delta\ndata: {not json\n\n')
    async function* groups(): AsyncGenerator<readonly SseFrame[]> {
      // One upstream read: two good events, then one masking cannot read.
      yield [...good.toString().split(/(?<=\n\n)/).filter(Boolean), bad.toString()].map((text) => ObservedFrame.fromRaw(Buffer.from(text)))
    }
    const ctx = {
      method: 'POST', path: '/v1/messages', endpoint: { name: 'messages' }, decision: { rule: 'ci', principal: 'p1' },
      response: { status: 200, headers: { 'content-type': 'text/event-stream' }, body: { kind: 'sse', frames: groups() } },
    } as unknown as RequestContext
    const received: string[] = []
    const run = compose([maskResponse(defaultMasking()), async (c, next) => {
      const out = c.response!.body
      if (out.kind === 'sse') for await (const group of out.frames) received.push(group.map((f) => Buffer.from(f.raw).toString()).join(''))
      return next()
    }])(ctx)
    await expect(run).rejects.toMatchObject({ code: 'GW_MASKING_FAILED' })
    expect(received).toEqual([good.toString()])
  })
})
