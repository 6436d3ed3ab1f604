/** MCP tool calls under the rule's `limits` (issue #19 follow-up): the /v1 request rate, shared, fail closed. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLimiter, type Limiter } from '../../src/limits/index.js'
import type { McpCaller } from '../../src/mcp/caller.js'
import { LimitsUnavailable, toolCallLimits } from '../../src/mcp/tool-limits.js'
import { openStorage } from '../../src/storage/open-storage.js'
import { StorageError } from '../../src/storage/errors.js'
import type { Storage } from '../../src/storage/ports.js'

let dir: string
let storage: Storage
let limiter: Limiter
let now = Date.parse('2030-01-01T09:00:30.000Z')
const caller: McpCaller = { principal: 'gha:1/2', claims: {}, ruleName: 'ci' }
const limits = new Map([['ci', { requestsPerMinute: 2, inputTokensPerDay: 1, outputTokensPerDay: 1, concurrentStreams: 1 }]])

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-mcp-limits-'))
  storage = await openStorage(`sqlite:${join(dir, 'store.db')}`, { now: () => new Date(now) })
  await storage.migrate()
  limiter = createLimiter({ counters: storage.counters, now: () => now })
})
afterEach(async () => {
  await storage.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('tool call limits', () => {
  it('counts each call against requestsPerMinute; over it: refused, naming the rule, the limit and when to retry', async () => {
    const check = toolCallLimits(limiter, (rule) => limits.get(rule))
    expect(await check(caller)).toEqual({ ok: true })
    expect(await check(caller)).toEqual({ ok: true })
    expect(await check(caller)).toEqual({ ok: false, retryAfterSeconds: 30, message: 'rate limit reached: rule ci; requestsPerMinute is 2 (tool calls and /v1 requests together): retry after 30 s' })
    // Another principal under the same rule has its own count; the next minute starts afresh.
    expect(await check({ ...caller, principal: 'gha:1/3' })).toEqual({ ok: true })
    now += 30_000
    expect(await check(caller)).toEqual({ ok: true })
  })

  it('shares the counter with /v1 requests of the same rule and principal', async () => {
    const check = toolCallLimits(limiter, (rule) => limits.get(rule))
    for (let i = 0; i < 2; i++) expect((await limiter.checkBefore({ principal: 'gha:1/2', rule: 'ci' }, { requestsPerMinute: 2 }, { streaming: false })).ok).toBe(true)
    expect((await check(caller)).ok).toBe(false)
  })

  it('token budgets do not apply to a call that runs no model, even spent; no limits: nothing counted', async () => {
    await limiter.recordUsage({ principal: 'gha:1/2', rule: 'ci' }, { inputTokensPerDay: 1, outputTokensPerDay: 1 }, { inputTokens: 5, outputTokens: 5 })
    expect(await toolCallLimits(limiter, () => ({ inputTokensPerDay: 1, outputTokensPerDay: 1 }))(caller)).toEqual({ ok: true })
    const check = toolCallLimits(limiter, () => undefined)
    for (let i = 0; i < 5; i++) expect(await check(caller)).toEqual({ ok: true })
  })

  it('fails closed when the counter store is down', async () => {
    const broken: Limiter = { ...limiter, checkBefore: () => Promise.reject(new StorageError('unavailable', 'down')) }
    await expect(toolCallLimits(broken, (rule) => limits.get(rule))(caller)).rejects.toBeInstanceOf(LimitsUnavailable)
  })
})
