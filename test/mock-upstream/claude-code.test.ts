/**
 * Claude Code 2.1.197 against the mock. Claude Code silently repeats a turn with `stream: false` when it
 * cannot use a stream (reference §13.3), so "exactly one streaming request" is the fidelity check.
 * Runs in a throw-away HOME with every non-essential call disabled and a dead HTTPS proxy (no egress).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'

const CLAUDE = resolve('node_modules/.bin/claude')

let mock: MockUpstream
let home: string

beforeAll(async () => {
  mock = await startMockUpstream()
  home = mkdtempSync(join(tmpdir(), 'skillgate-cc-'))
})
afterAll(async () => {
  await mock.close()
  rmSync(home, { recursive: true, force: true })
})

function runClaude(prompt: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
  const env = {
    PATH: process.env.PATH ?? '', HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: mock.url, ANTHROPIC_API_KEY: mock.apiKey,
    DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1', DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_NON_ESSENTIAL_MODEL_CALLS: '1', CLAUDE_CODE_MAX_RETRIES: '0',
    HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost', ...extraEnv,
  }
  return new Promise((done) => {
    const child = execFile(CLAUDE, ['-p', prompt, '--output-format', 'json', '--bare'], { env, cwd: home, timeout: 90_000 }, (err, stdout) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout })
    })
    child.stdin?.end()
  })
}

describe.skipIf(!existsSync(CLAUDE))('Claude Code against the mock', () => {
  it('completes a turn with exactly one streaming request', { timeout: 120_000 }, async () => {
    mock.reset()
    const { code, stdout } = await runClaude('say hi')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ is_error: false, result: 'Hello from the mock upstream.' })
    const calls = mock.requests.filter((r) => r.path === '/v1/messages')
    expect(calls).toHaveLength(1)
    expect(calls[0]?.search).toBe('?beta=true')
    expect(calls[0]?.json).toMatchObject({ stream: true })
  })

  it('shows an error after the content blocks as "API Error: Overloaded", without retrying', { timeout: 120_000 }, async () => {
    mock.reset()
    // 999 > number of deltas: the error replaces message_delta/message_stop after every block closed.
    const { code, stdout } = await runClaude('say hi', { ANTHROPIC_CUSTOM_HEADERS: 'mock-stream-error-after: 999' })
    expect(code).toBe(1)
    expect(JSON.parse(stdout)).toMatchObject({ is_error: true, result: 'API Error: Overloaded' })
    expect(mock.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(1)
  })

  it('retries an error inside a block, then falls back to stream: false (observed on 2.1.197)', { timeout: 120_000 }, async () => {
    mock.reset()
    const { code, stdout } = await runClaude('say hi', { ANTHROPIC_CUSTOM_HEADERS: 'mock-stream-error-after: 2' })
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ is_error: false })
    const calls = mock.requests.filter((r) => r.path === '/v1/messages')
    expect(calls.at(-1)?.json).not.toHaveProperty('stream', true)
    expect(calls.slice(0, -1).every((r) => (r.json as { stream?: boolean }).stream === true)).toBe(true)
  })
})
