/**
 * Budgets that cannot be walked around (issue #12): `max_tokens` is reserved before forwarding and
 * settled on real usage; a client that leaves is charged the reservation; concurrent calls cannot
 * overshoot; a batch reserves the sum of its requests.
 */
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { clearOfDayBoundary, defaultRules, startStack, type Stack } from './harness.js'

let stack: Stack
const rule = (id: string, limits: Record<string, unknown>) => ({
  ...structuredClone(defaultRules[0]!),
  id,
  match: { subject: `repo:acme/${id}:*`, claims: { repository_owner_id: '1234567' } },
  limits,
})

beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.rules = ['leaver', 'crowd', 'batcher', 'settled'].map((id) => rule(id, { outputTokensPerDay: id === 'crowd' ? 60 : id === 'settled' ? 200 : 100 }))
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

const body = (maxTokens: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello there' }], ...extra })
const headers = async (repo: string) => ({
  'x-api-key': await stack.mint({ sub: `repo:acme/${repo}:ref:refs/heads/main` }),
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
})
const call = async (repo: string, text: string, path = '/v1/messages', extra: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, { method: 'POST', body: text, headers: { ...(await headers(repo)), ...extra } })

describe('output reservations', () => {
  // Budgets count UTC days: no test may spend on one day and expect its refusal on the next.
  beforeEach(() => clearOfDayBoundary())
  it('a client that leaves after the first content block is charged its whole reservation', async () => {
    const h = await headers('leaver')
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/v1/messages`, { method: 'POST', headers: { ...h, 'mock-delay-ms': '100' } }, (res) => {
        res.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('content_block_delta')) {
            req.destroy()
            resolve()
          }
        })
        res.on('error', () => resolve())
      })
      req.on('error', () => resolve())
      req.end(body(64, { stream: true }))
      setTimeout(() => reject(new Error('no content_block_delta within 10 s')), 10_000).unref()
    })
    // 64 charged (not the few tokens of message_start): another 64 no longer fits 100.
    await expect.poll(async () => (await call('leaver', body(64))).status, { timeout: 5_000 }).toBe(429)
    expect((await call('leaver', body(30))).status).toBe(200) // 64 + 30 still fits
  })

  it('five concurrent 60-token calls against a 60-token budget: exactly one is admitted', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, async () => (await call('crowd', body(60, { stream: true }), '/v1/messages', { 'mock-delay-ms': '20' })).status))
    expect(results.filter((s) => s === 200)).toHaveLength(1)
    expect(results.filter((s) => s === 429)).toHaveLength(4)
  })

  it('a batch reserves the sum of its requests and is refused when it cannot fit', async () => {
    const requests = (n: number) => JSON.stringify({ requests: Array.from({ length: n }, (_, i) => ({ custom_id: `r${i}`, params: JSON.parse(body(40)) as unknown })) })
    const tooBig = await call('batcher', requests(3), '/v1/messages/batches')
    expect(tooBig.status).toBe(429)
    expect(((await tooBig.json()) as { error: { message: string } }).error.message).toContain('outputTokensPerDay')
    expect((await call('batcher', requests(2), '/v1/messages/batches')).status).toBe(200)
    // The batch runs later, out of sight: its 80 tokens stay charged.
    expect((await call('batcher', body(30))).status).toBe(429)
    expect((await call('batcher', body(20))).status).toBe(200)
  })

  it('a completed call is charged its real usage and its reservation is given back', async () => {
    for (let i = 0; i < 4; i++) expect((await call('settled', body(150))).status).toBe(200)
  })
})
