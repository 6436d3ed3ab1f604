import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageBody, startStack, type Stack } from '../e2e/harness.js'

/** Issue #17 item 2: `admin.listen` puts the console, the admin API and the Slack endpoint on their own port. */
const ADMIN_TOKEN = 'admin-listener-token-0123456789abcdef'
let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.admin = { listen: { host: '127.0.0.1', port: 0 }, tokens: [{ name: 'ops', secret: { value: ADMIN_TOKEN }, roles: ['admin'] }] }
    },
  })
})
afterAll(async () => {
  await stack?.close()
})

const get = (base: string, path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { redirect: 'manual', ...init })
const auth = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }

describe('a separate admin listener', () => {
  it('listens on another port than the public one', () => {
    expect(stack.gateway.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(stack.gateway.adminUrl).not.toBe(stack.url)
  })

  it('serves the console, the admin API and the Slack endpoint there, and not on the public listener', async () => {
    const admin = stack.gateway.adminUrl
    expect((await get(admin, '/admin/api/health', auth)).status).toBe(200)
    expect((await get(admin, '/ui/')).status).toBe(200)
    expect((await get(admin, '/ui')).status).toBe(301)
    // No Slack app is configured: the endpoint is there and says so.
    const slack = await get(admin, '/admin/slack/interactions', { method: 'POST', body: 'payload=%7B%7D' })
    expect(slack.status).toBe(404)
    expect(await slack.text()).toContain('no Slack app is configured')

    for (const [path, init] of [
      ['/admin/api/health', auth],
      ['/admin/api/openapi.json', {}],
      ['/ui/', {}],
      ['/ui', {}],
      ['/admin/slack/interactions', { method: 'POST', body: 'payload=%7B%7D' }],
    ] as const) {
      const res = await get(stack.url, path, init)
      expect([path, res.status]).toEqual([path, 404])
    }
  })

  it('keeps the Claude API on the public listener only', async () => {
    const token = await stack.mint()
    const call = (base: string) =>
      fetch(`${base}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
    expect((await call(stack.url)).status).toBe(200)
    const there = await call(stack.gateway.adminUrl)
    expect(there.status).toBe(404)
    expect(((await there.json()) as { error: { message: string } }).error.message).toContain('admin listener')
    expect((await get(stack.gateway.adminUrl, '/healthz')).status).toBe(200)
  })
})
