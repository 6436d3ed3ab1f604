import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { replaySession } from '../../src/audit/replay.js'
import { runClaude } from './claude-code.js'
import { defaultRules, startStack, type Stack } from './harness.js'

/**
 * Claude Code 2.1.197 against the gateway protocol of 2026 (claude-api-2026.md §6): with
 * CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1 it reads GET /v1/models and gets only the rule's models;
 * a two-turn session (`--session-id`, then `--resume`) is one clientSession on the audit.
 */
let stack: Stack
let token: string
let home: string

beforeAll(async () => {
  stack = await startStack({
    configure(config) {
      const [base] = structuredClone(defaultRules)
      config.rules = [{ ...base, allow: { ...base?.allow, models: ['claude-sonnet-*', 'claude-haiku-*'] } }]
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
  home = mkdtempSync(join(tmpdir(), 'skillgate-cc-2026-'))
})
afterAll(async () => {
  await stack.close()
  rmSync(home, { recursive: true, force: true })
})

const claude = (args: string[]) =>
  runClaude(['--output-format', 'json', '--model', 'claude-sonnet-4-6', ...args], {
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: stack.url,
    ANTHROPIC_AUTH_TOKEN: token,
    CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1',
    // Discovery is non-essential traffic: runClaude turns that off, so turn it back on here.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '',
  })

describe('Claude Code 2.1.197, gateway protocol 2026', () => {
  it('discovers only the granted models, and a two-turn session is listed and replayed as one', async () => {
    stack.mock.reset()
    const session = crypto.randomUUID()
    const first = await claude(['-p', 'say hi', '--session-id', session])
    expect(first.code, first.stderr).toBe(0)
    const second = await claude(['-p', 'and again', '--resume', session])
    expect(second.code, second.stderr).toBe(0)
    for (const turn of [first, second]) expect((JSON.parse(turn.stdout) as { result: string }).result).toContain('Hello from the mock upstream.')

    // Discovery: GET /v1/models?limit=1000 through the gateway, and Claude Code keeps what it got.
    expect(stack.mock.requests.some((r) => r.method === 'GET' && r.path === '/v1/models' && r.search === '?limit=1000')).toBe(true)
    const cached = JSON.parse(readFileSync(join(home, '.claude', 'cache', 'gateway-models.json'), 'utf8')) as { baseUrl: string; models: { id: string }[] }
    expect(cached.baseUrl).toBe(stack.url)
    expect(cached.models.map((m) => m.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5-20251001', 'claude-sonnet-4-5'])

    // Both turns carry the session id upstream and on the record.
    const turns = stack.mock.requests.filter((r) => r.path === '/v1/messages')
    expect(turns).toHaveLength(2)
    for (const turn of turns) {
      expect(turn.headers['x-claude-code-session-id']).toBe(session)
      // The attribution block stays the first system entry, unchanged (the API strips it only then).
      const system = (turn.json as { system: { type: string; text: string }[] }).system
      expect(system[0]?.text).toMatch(/^x-anthropic-billing-header: /)
    }
    const audit = stack.gateway.audit.storage.audit
    const { records } = await audit.list({ limit: 50, clientSession: session })
    expect(records.map((r) => r.endpoint)).toEqual(['messages', 'messages'])
    expect(new Set(records.map((r) => r.principal)).size).toBe(1)

    const frames = []
    for await (const frame of replaySession(records, { speed: Infinity })) frames.push(frame)
    const announced = frames.filter((f) => f.event === 'skillgate_turn').map((f) => JSON.parse(f.data) as { id: string; clientSession: string })
    expect(announced.map((t) => t.id)).toEqual([...records].reverse().map((r) => r.id))
    expect(announced.every((t) => t.clientSession === session)).toBe(true)
    expect(frames.filter((f) => f.event === 'message_stop')).toHaveLength(2)
    const text = frames.filter((f) => f.event === 'content_block_delta').map((f) => (JSON.parse(f.data) as { delta: { text?: string } }).delta.text ?? '').join('')
    expect(text).toBe('Hello from the mock upstream.'.repeat(2))
  }, 200_000)
})
