import { connect } from 'node:net'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfigText } from '../../src/config/load.js'
import { startStack, type Stack } from './harness.js'

/**
 * Gateway tokens against a running gateway (issue #13): a reload that adds a deny rule or narrows the
 * bound rule refuses live gateway tokens on their next call; the exchange records the subject's
 * delegation chain; the token endpoint does not wait forever for a slow body.
 */
let stack: Stack
let raw: Record<string, unknown>
beforeAll(async () => {
  stack = await startStack({ configure: (config) => (raw = config) })
})
afterAll(async () => {
  await stack.close()
})

async function exchange(assertion: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion })
  const response = await fetch(`${stack.url}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function callModels(token: string): Promise<{ status: number; type?: string; message?: string }> {
  const response = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01' } })
  const json = (await response.json()) as { error?: { type?: string; message?: string } }
  return { status: response.status, ...(json.error?.type ? { type: json.error.type } : {}), ...(json.error?.message ? { message: json.error.message } : {}) }
}

async function reload(rules: unknown[]): Promise<void> {
  const loaded = loadConfigText(stringify({ ...raw, rules }), 'reload.yaml', {})
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  await stack.gateway.reload(loaded.config)
}

async function gatewayToken(claims: Record<string, unknown> = {}): Promise<string> {
  const reply = await exchange(await stack.mint(claims))
  expect(reply.status).toBe(200)
  return reply.json.access_token as string
}

describe('rule changes reach live gateway tokens', () => {
  const original = () => structuredClone(raw.rules) as Record<string, unknown>[]

  it('refuses a live gateway token once a reload adds a deny rule matching its source', async () => {
    const token = await gatewayToken({ runner_environment: 'self-hosted' })
    expect((await callModels(token)).status).toBe(200)
    await reload([{ id: 'incident', issuer: 'ci', effect: 'deny', match: { claims: { runner_environment: 'self-hosted' } } }, ...original()])
    try {
      expect(await callModels(token)).toMatchObject({ status: 403, type: 'permission_error', message: expect.stringContaining('incident') })
      // A token whose source the deny rule does not match keeps working.
      expect((await callModels(await gatewayToken({ runner_environment: 'github-hosted' }))).status).toBe(200)
    } finally {
      await reload(original())
    }
    expect((await callModels(token)).status).toBe(200)
  })

  it('refuses a live gateway token once its bound rule is narrowed past its source', async () => {
    const token = await gatewayToken({ repository_id: '42' })
    expect((await callModels(token)).status).toBe(200)
    const narrowed = original().map((rule) => ({ ...rule, match: { subject: 'repo:acme/app:*', claims: { repository_owner_id: '1234567', repository_id: '77' } } }))
    await reload(narrowed)
    try {
      expect(await callModels(token)).toMatchObject({ status: 403, message: expect.stringContaining('does not match') })
    } finally {
      await reload(original())
    }
  })

  it('records the subject delegation chain with the exchange in the audit', async () => {
    const token = await gatewayToken({ act: { sub: 'deploy-bot', act: { sub: 'alice' } } })
    expect((await callModels(token)).status).toBe(200)
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 20 })
    const exchangeRecord = records.find((r) => r.endpoint === 'oauth_token' && r.reasons.some((reason) => reason.detail?.includes('act: deploy-bot > alice')))
    expect(exchangeRecord?.decision).toBe('allow')
  })
})

describe('the token endpoint body deadline', () => {
  it('answers 408 and closes the connection when the body stops arriving', async () => {
    const { port } = new URL(stack.url)
    const started = Date.now()
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/oauth/token HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ngrant_type=')
      })
      let text = ''
      socket.on('data', (chunk) => (text += chunk.toString()))
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
      socket.setTimeout(20_000, () => socket.destroy(new Error('no answer within 20 s')))
    })
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
    expect(answer).toContain('request body not received in time')
    expect(Date.now() - started).toBeLessThan(12_000)
  }, 25_000)
})
