import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import AnthropicLegacy from 'anthropic-sdk-0x'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runClaude } from './claude-code.js'
import { startStack, type Stack } from './harness.js'

/**
 * The official clients, unchanged, pointed at the gateway (anthropic-api.md §15): SDK 1.x (Bearer,
 * API version 2026-10-21), the last SDK 0.x (x-api-key, 2023-06-01) and Claude Code 2.1.197.
 */
let stack: Stack
let token: string

beforeAll(async () => {
  stack = await startStack()
  token = await stack.mint({}, { expiresIn: 600 })
})
afterAll(async () => {
  await stack.close()
})

const user = (text: string) => [{ role: 'user' as const, content: text }]
const messagesRequests = () => stack.mock.requests.filter((r) => r.path === '/v1/messages')

describe('@anthropic-ai/sdk 1.x', () => {
  const client = () => new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 })

  it('creates a message', async () => {
    stack.mock.reset()
    const message = await client().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: user('hi') })
    expect(message.type).toBe('message')
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hello from the mock upstream.' })
    const seen = messagesRequests()[0]!
    expect(seen.headers['anthropic-version']).toBe('2026-10-21')
    expect(seen.headers.authorization).toBeUndefined()
    expect(seen.headers['x-api-key']).toBe(stack.mock.apiKey)
  })

  it('streams to a final message with messages.stream()', async () => {
    const stream = client().messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: user('hi') })
    const deltas: string[] = []
    stream.on('text', (text) => deltas.push(text))
    const message = await stream.finalMessage()
    expect(deltas.length).toBeGreaterThan(1)
    expect(deltas.join('')).toBe('Hello from the mock upstream.')
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage.output_tokens).toBeGreaterThan(0)
  })

  it('streams a tool call whose input JSON arrives in fragments', async () => {
    const message = await client()
      .messages.stream({
        model: 'claude-sonnet-4-6',
        max_tokens: 256,
        tools: [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        tool_choice: { type: 'any' },
        messages: user('weather in Paris?'),
      })
      .finalMessage()
    expect(message.stop_reason).toBe('tool_use')
    const tool = message.content.find((block) => block.type === 'tool_use')
    expect(tool).toMatchObject({ type: 'tool_use', name: 'get_weather' })
    expect(typeof (tool as { input: unknown }).input).toBe('object')
  })

  it('runs a skills request and receives the container', async () => {
    const message = await client()
      .messages.stream({
        model: 'claude-opus-4-8',
        max_tokens: 1024,
        container: { skills: [{ type: 'anthropic', skill_id: 'pptx', version: 'latest' }] },
        tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
        messages: user('make slides'),
      })
      .finalMessage()
    expect(message.container?.id).toMatch(/^container_/)
    expect(message.container?.skills?.[0]).toMatchObject({ type: 'anthropic', skill_id: 'pptx' })
    const forwarded = messagesRequests().at(-1)!.json as { container: unknown }
    expect(forwarded.container).toEqual({ skills: [{ type: 'anthropic', skill_id: 'pptx', version: 'latest' }] })
  })

  it('raises the right error classes for 401, 403, 429 and 529', async () => {
    const bad = new Anthropic({ baseURL: stack.url, apiKey: 'not-a-token', maxRetries: 0 })
    await expect(bad.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: user('x') })).rejects.toBeInstanceOf(Anthropic.AuthenticationError)
    const denied = client().messages.create({ model: 'gpt-4', max_tokens: 8, messages: user('x') })
    await expect(denied).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError)
    await expect(denied).rejects.toMatchObject({ status: 403, message: expect.stringContaining('rule ci-app') })
    await expect(client().messages.create({ model: 'mock-error-429', max_tokens: 8, messages: user('x') })).rejects.toBeInstanceOf(Anthropic.RateLimitError)
    await expect(client().messages.create({ model: 'mock-error-529', max_tokens: 8, messages: user('x') })).rejects.toMatchObject({ status: 529 })
  })

  it('surfaces a mid-stream upstream error as an APIError', async () => {
    const stream = client().messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: user('hi') }, { headers: { 'mock-stream-error-after': '1' } })
    await expect(stream.finalMessage()).rejects.toMatchObject({ error: { error: { type: 'overloaded_error' } } })
  })
})

describe('@anthropic-ai/sdk 0.x (last release)', () => {
  const client = () => new AnthropicLegacy({ baseURL: stack.url, apiKey: token, maxRetries: 0 })

  it('creates and streams messages with x-api-key', async () => {
    stack.mock.reset()
    const message = await client().messages.create({ model: 'claude-haiku-4-5', max_tokens: 32, messages: user('hi') })
    expect(message.content[0]).toMatchObject({ type: 'text' })
    const seen = messagesRequests()[0]!
    expect(seen.headers['anthropic-version']).toBe('2023-06-01')
    expect(seen.headers['x-api-key']).toBe(stack.mock.apiKey)
    const final = await client().messages.stream({ model: 'claude-haiku-4-5', max_tokens: 32, messages: user('hi') }).finalMessage()
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Hello from the mock upstream.' })
  })

  it('raises the right error classes', async () => {
    const bad = new AnthropicLegacy({ baseURL: stack.url, apiKey: 'nope', maxRetries: 0 })
    await expect(bad.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8, messages: user('x') })).rejects.toBeInstanceOf(AnthropicLegacy.AuthenticationError)
    await expect(client().messages.create({ model: 'o3', max_tokens: 8, messages: user('x') })).rejects.toBeInstanceOf(AnthropicLegacy.PermissionDeniedError)
    await expect(client().messages.create({ model: 'mock-error-429', max_tokens: 8, messages: user('x') })).rejects.toBeInstanceOf(AnthropicLegacy.RateLimitError)
  })
})

describe('Claude Code 2.1.197', () => {
  it('completes a -p turn through the gateway with one streamed request', async () => {
    stack.mock.reset()
    const home = mkdtempSync(join(tmpdir(), 'skillgate-cc-'))
    try {
      const result = await runClaude(['-p', 'say hi', '--output-format', 'json', '--bare'], {
        HOME: home,
        CLAUDE_CONFIG_DIR: join(home, '.claude'),
        ANTHROPIC_BASE_URL: stack.url,
        ANTHROPIC_API_KEY: token,
      })
      expect(result.code, result.stderr).toBe(0)
      const output = JSON.parse(result.stdout) as { type: string; is_error: boolean; result: string }
      expect(output).toMatchObject({ type: 'result', is_error: false })
      expect(output.result).toContain('Hello from the mock upstream.')
      // A broken SSE relay makes Claude Code silently retry without streaming (anthropic-api.md §13.3).
      const turns = messagesRequests()
      expect(turns).toHaveLength(1)
      expect((turns[0]!.json as { stream?: boolean }).stream).toBe(true)
      expect(turns[0]!.search).toBe('?beta=true')
      expect(turns[0]!.headers['x-api-key']).toBe(stack.mock.apiKey)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }, 120_000)
})
