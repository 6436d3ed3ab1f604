import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ANTHROPIC_SKILL_LATEST, MOCK_DEFAULT_TEXT, MOCK_PII, MOCK_PII_TEXT, startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'
import { checkGrammarAndAssemble, messagesBody, post, streamEvents } from './helpers.js'

let mock: MockUpstream

beforeAll(async () => {
  mock = await startMockUpstream()
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => mock.reset())

type Message = Record<string, unknown> & { content: Array<Record<string, unknown>>; usage: Record<string, number> & { input_tokens: number; output_tokens: number } }

async function createJson(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Message> {
  const res = await post(mock, '/v1/messages', body, headers)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/json')
  return (await res.json()) as Message
}

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
}
const skillsBody = {
  container: { skills: [{ type: 'anthropic', skill_id: 'pptx', version: 'latest' }] },
  tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
}

describe('POST /v1/messages (JSON)', () => {
  it('returns a complete message that echoes the model', async () => {
    const msg = await createJson(messagesBody({ model: 'claude-opus-5-5' }))
    expect(msg).toMatchObject({
      type: 'message', role: 'assistant', model: 'claude-opus-5-5', stop_reason: 'end_turn', stop_sequence: null, container: null,
      content: [{ type: 'text', text: MOCK_DEFAULT_TEXT }],
    })
    expect(msg.id).toMatch(/^msg_01/)
    expect(msg.usage.input_tokens).toBeGreaterThan(0)
    expect(msg.usage.output_tokens).toBe(Math.ceil(MOCK_DEFAULT_TEXT.length / 4))
    expect(msg.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: 'standard' })
  })

  it('derives input_tokens from the request size, the same as count_tokens', async () => {
    const small = await createJson(messagesBody())
    const big = await createJson(messagesBody({}, 'x'.repeat(4000)))
    expect(big.usage.input_tokens).toBeGreaterThan(small.usage.input_tokens + 900)
    const count = await post(mock, '/v1/messages/count_tokens', { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x'.repeat(4000) }] })
    expect(await count.json()).toEqual({ input_tokens: big.usage.input_tokens })
  })
})

describe('POST /v1/messages (SSE)', () => {
  it('streams the default reply with the exact wire framing', async () => {
    const { res, events } = await streamEvents(mock, messagesBody())
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('request-id')).toMatch(/^req_mock_/)
    const msg = checkGrammarAndAssemble(events)
    expect(msg.content).toEqual([{ type: 'text', text: MOCK_DEFAULT_TEXT }])
    expect(events.filter((e) => e.event === 'content_block_delta').length).toBeGreaterThanOrEqual(4)
    expect(events[2]?.data).toBe('{"type": "ping"}')
    expect((events[0]?.json.message as Record<string, unknown>).container).toBeNull()
  })

  it('renders the same message as JSON and as a stream', async () => {
    const body = messagesBody({ thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [weatherTool] }, 'MOCK:TOOL please')
    const json = await createJson(body)
    const streamed = checkGrammarAndAssemble((await streamEvents(mock, body)).events)
    const strip = (m: Record<string, unknown>): unknown => JSON.parse(JSON.stringify(m.content).replace(/toolu_01\w+/g, 'toolu'))
    expect(strip(streamed)).toEqual(strip(json))
    expect(streamed.stop_reason).toBe(json.stop_reason)
    expect((streamed.usage as Record<string, number>).output_tokens).toBe(json.usage.output_tokens)
  })

  it('MOCK:PII streams fake secrets split across many small deltas', async () => {
    const { events } = await streamEvents(mock, messagesBody({}, 'show me MOCK:PII'))
    const msg = checkGrammarAndAssemble(events)
    const text = String(msg.content[0]?.text)
    expect(text).toBe(MOCK_PII_TEXT)
    for (const secret of Object.values(MOCK_PII)) expect(text).toContain(secret)
    expect(MOCK_PII.anthropicKey).toMatch(/^sk-ant-api03-[\w-]{40,}$/)
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => String((e.json.delta as Record<string, unknown>).text))
    expect(deltas.length).toBeGreaterThan(30)
    for (const d of deltas) expect(d.length).toBeLessThanOrEqual(7)
    for (const secret of Object.values(MOCK_PII)) expect(deltas.some((d) => d.includes(secret))).toBe(false)
  })

  it('a client tool with MOCK:TOOL streams tool_use input in mid-string fragments', async () => {
    const { events } = await streamEvents(mock, messagesBody({ tools: [weatherTool] }, 'MOCK:TOOL'))
    const msg = checkGrammarAndAssemble(events)
    expect(msg.stop_reason).toBe('tool_use')
    const tool = msg.content[1]
    expect(tool).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'mock-city', days: 42 } })
    expect(String(tool?.id)).toMatch(/^toolu_01/)
    const fragments = events
      .filter((e) => e.event === 'content_block_delta' && e.json.index === 1)
      .map((e) => String((e.json.delta as Record<string, unknown>).partial_json))
    expect(fragments[0]).toBe('')
    expect(fragments.length).toBeGreaterThan(3)
    expect(fragments.some((f) => /"[^"]*$/.test(f) && !f.endsWith('"'))).toBe(true) // ends inside a string
  })

  it.each([
    [{ tool_choice: { type: 'any' } }, 'get_weather'],
    [{ tool_choice: { type: 'tool', name: 'lookup' } }, 'lookup'],
  ])('tool_choice %j forces a tool_use', async (choice, name) => {
    const tools = [weatherTool, { name: 'lookup', input_schema: { type: 'object', properties: {} } }]
    const msg = await createJson(messagesBody({ tools, ...choice }))
    expect(msg.stop_reason).toBe('tool_use')
    expect(msg.content.at(-1)).toMatchObject({ type: 'tool_use', name })
  })

  it('ends a tool loop: a tool_result turn without the marker gets text', async () => {
    const msg = await createJson({
      model: 'm', max_tokens: 64, tools: [weatherTool],
      messages: [
        { role: 'user', content: 'MOCK:TOOL' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
    })
    expect(msg.stop_reason).toBe('end_turn')
  })

  it('thinking streams thinking_deltas then one signature_delta before the text', async () => {
    const { events } = await streamEvents(mock, messagesBody({ thinking: { type: 'adaptive' } }))
    const msg = checkGrammarAndAssemble(events)
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text'])
    const block0 = events.filter((e) => e.event === 'content_block_delta' && e.json.index === 0).map((e) => (e.json.delta as Record<string, unknown>).type)
    expect(block0.at(-1)).toBe('signature_delta')
    expect(block0.filter((t) => t === 'signature_delta')).toHaveLength(1)
    expect(block0.filter((t) => t === 'thinking_delta').length).toBeGreaterThan(1)
  })

  it('thinking display "omitted" sends only the signature', async () => {
    const msg = await createJson(messagesBody({ thinking: { type: 'adaptive', display: 'omitted' } }))
    expect(msg.content[0]).toMatchObject({ type: 'thinking', thinking: '' })
    expect(String(msg.content[0]?.signature).length).toBeGreaterThan(20)
  })

  it('skills run as bash_code_execution and return the container in message_delta', async () => {
    const { events } = await streamEvents(mock, messagesBody(skillsBody))
    const msg = checkGrammarAndAssemble(events)
    expect(msg.content.map((b) => b.type)).toEqual(['server_tool_use', 'bash_code_execution_tool_result', 'text'])
    expect(msg.content[0]).toMatchObject({ name: 'bash_code_execution', input: { command: 'cat /skills/pptx/SKILL.md | head -3' } })
    const resultStart = events.find((e) => e.event === 'content_block_start' && e.json.index === 1)
    expect(resultStart?.json.content_block).toMatchObject({
      type: 'bash_code_execution_tool_result', tool_use_id: msg.content[0]?.id,
      content: { type: 'bash_code_execution_result', stdout: '---\nname: pptx\n---\n', stderr: '', return_code: 0, content: [] },
    })
    const container = msg.container as { id: string; expires_at: string; skills: unknown[] }
    expect(container.id).toMatch(/^container_01/)
    expect(Date.parse(container.expires_at)).toBeGreaterThan(Date.now())
    expect(container.skills).toEqual([{ type: 'anthropic', skill_id: 'pptx', version: ANTHROPIC_SKILL_LATEST }])
  })

  it('returns the container top-level in JSON and reuses a container id with its skills', async () => {
    const first = await createJson(messagesBody(skillsBody))
    const container = first.container as { id: string; skills: unknown[] }
    const again = await createJson(messagesBody({ container: container.id, tools: skillsBody.tools }))
    expect(again.container).toMatchObject({ id: container.id, skills: container.skills })
    const asObject = await createJson(messagesBody({ container: { id: container.id }, tools: skillsBody.tools }))
    expect((asObject.container as { id: string }).id).toBe(container.id)
  })

  it('a code_execution tool alone runs a command without skills', async () => {
    const msg = await createJson(messagesBody({ tools: skillsBody.tools }))
    expect(msg.content[0]).toMatchObject({ type: 'server_tool_use', name: 'bash_code_execution' })
    expect(msg.container).toMatchObject({ skills: null })
  })

  it('mcp_servers produce mcp_tool_use and mcp_tool_result', async () => {
    const body = messagesBody({ mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example', authorization_token: 'secret' }] })
    const msg = checkGrammarAndAssemble((await streamEvents(mock, body)).events)
    expect(msg.content.map((b) => b.type)).toEqual(['mcp_tool_use', 'mcp_tool_result', 'text'])
    expect(msg.content[0]).toMatchObject({ server_name: 'example', input: { text: 'mock' } })
    expect(msg.content[1]).toMatchObject({ tool_use_id: msg.content[0]?.id, is_error: false })
  })

  it('mock-reply-text replies with that exact text in mock-delta-size deltas', async () => {
    const text = 'Mail alice.smith@example.com now — ünïcode ✓'
    const headers = { 'mock-reply-text': encodeURIComponent(text), 'mock-delta-size': '4' }
    const { events } = await streamEvents(mock, messagesBody(), headers)
    expect(checkGrammarAndAssemble(events).content[0]?.text).toBe(text)
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => String((e.json.delta as Record<string, unknown>).text))
    expect(deltas[0]).toBe('Mail')
    expect(deltas.slice(0, -1).every((d) => Array.from(d).length === 4)).toBe(true)
    const bad = await post(mock, '/v1/messages', messagesBody(), { 'mock-reply-text': '%E0%A4%A' })
    expect(bad.status).toBe(400)
  })
})

describe('POST /v1/messages/count_tokens', () => {
  it('answers {input_tokens} and tolerates ?beta=true', async () => {
    const res = await post(mock, '/v1/messages/count_tokens?beta=true', { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['input_tokens'])
    expect(body.input_tokens).toBeGreaterThan(0)
  })
})
