import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { verifyWebhookSignature } from '../../src/audit/sinks/index.js'
import { createNotifier, formatSlack, type NotificationEvent } from '../../src/notify/index.js'
import type { Grant, Review } from '../../src/storage/ports.js'

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/** A local receiver on 127.0.0.1:0 answering with the given statuses in turn (then 200). */
async function receiver(statuses: number[] = []): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = statuses.shift() ?? 200
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secretpath`, received }
}

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve))
})

const at = new Date('2030-01-01T09:00:00.000Z')
const review: Review = {
  id: 'rev_01JB7Z5Q9W3Y4X2V1T0S9R8Q7P',
  principal: 'gha:1234567/42',
  rule: 'release-notes',
  fingerprint: 'f'.repeat(64),
  state: 'pending',
  summary: { endpoint: 'messages', model: 'claude-sonnet-4-5', skills: ['custom:skill_01AbCdEf'], tools: ['code_execution_20250825'], requestId: 'req_1' },
  requester: { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/app:ref:refs/heads/main' },
  createdAt: at,
  expiresAt: new Date('2030-01-01T10:00:00.000Z'),
  decidedAt: null,
  approver: null,
  approverName: null,
  reason: null,
  grantId: null,
  version: 7,
}
const grant: Grant = {
  id: 'grt_01JB7Z5Q9W3Y4X2V1T0S9R8Q7Q',
  principal: review.principal,
  rule: review.rule,
  reviewId: review.id,
  approver: 'oidc:alice@example.com',
  createdAt: at,
  expiresAt: new Date('2030-01-01T10:00:00.000Z'),
  usesLeft: 3,
  revokedAt: null,
  revokedBy: null,
}
const created: NotificationEvent = { type: 'review.created', at, review }

describe('json webhook', () => {
  it('posts a signed JSON body a receiver can verify, naming the review and how to decide it', async () => {
    const { url, received } = await receiver()
    const notifier = createNotifier([{ webhook: { url, format: 'json', secret: { reveal: () => 'hook-secret' } } }], {
      consoleUrl: 'https://skillgate.example',
      newId: () => 'ntf_1',
    })
    notifier.publish(created)
    await notifier.flush()
    const [hit] = received
    expect(hit?.headers).toMatchObject({ 'content-type': 'application/json', 'skillgate-delivery': 'ntf_1', 'skillgate-event': 'review.created', 'user-agent': 'skillgate-notify' })
    expect(verifyWebhookSignature('hook-secret', hit?.body ?? '', hit?.headers['skillgate-signature'] as string)).toBe(true)
    const body = JSON.parse(hit?.body ?? '{}')
    expect(body).toEqual({
      id: 'ntf_1',
      type: 'review.created',
      at: '2030-01-01T09:00:00.000Z',
      review: expect.objectContaining({ id: review.id, state: 'pending', principal: review.principal, rule: review.rule, expiresAt: '2030-01-01T10:00:00.000Z' }),
      actions: {
        approve: `skillgate reviews approve ${review.id}`,
        deny: `skillgate reviews deny ${review.id}`,
        url: `https://skillgate.example/ui/reviews/${review.id}`,
      },
    })
    expect(body.review).not.toHaveProperty('fingerprint')
    expect(notifier.stats()).toEqual([{ name: expect.stringMatching(/^webhook:127\.0\.0\.1:\d+$/), format: 'json', queued: 0, delivered: 1, dropped: 0, failed: 0, retries: 0 }])
    await notifier.close()
  })

  it('announces decisions with the grant, and revocations', async () => {
    const { url, received } = await receiver()
    const notifier = createNotifier([{ webhook: { url } }])
    const decided = { ...review, state: 'approved' as const, approver: grant.approver, decidedAt: at, grantId: grant.id }
    notifier.publish({ type: 'review.decided', at, review: decided, grant })
    notifier.publish({ type: 'revocation', at, action: 'revoked', revocation: { kind: 'principal', subject: 'gha:1/1', revokedBefore: at, actor: 'admin' } })
    await notifier.flush()
    const [decision, revocation] = received.map((r) => JSON.parse(r.body))
    expect(decision).toMatchObject({ type: 'review.decided', review: { state: 'approved', approver: grant.approver }, grant: { id: grant.id, usesLeft: 3 } })
    expect(revocation).toMatchObject({ type: 'revocation', action: 'revoked', revocation: { kind: 'principal', subject: 'gha:1/1', revokedBefore: '2030-01-01T09:00:00.000Z', jti: null, actor: 'admin', reason: null } })
    expect(received[0]?.headers['skillgate-signature']).toBeUndefined()
  })
})

describe('slack webhook', () => {
  it('posts {text, blocks} with the facts and the commands to decide', async () => {
    const { url, received } = await receiver()
    const notifier = createNotifier([{ webhook: { url, format: 'slack' } }])
    notifier.publish(created)
    await notifier.flush()
    const body = JSON.parse(received[0]?.body ?? '{}')
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text'])
    expect(body.text).toBe(`Approval needed: gha:1234567/42 asks to use rule release-notes (review ${review.id})`)
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed' } })
    const text = JSON.stringify(body.blocks)
    expect(text).toContain('`claude-sonnet-4-5`')
    expect(text).toContain(`skillgate reviews approve ${review.id}`)
    // Slack webhooks are secret URLs: the channel is named by host only.
    expect(notifier.stats()[0]?.name).not.toContain('secretpath')
  })

  it('escapes values so a principal or reason cannot mention people or inject links', () => {
    const hostile = { ...review, state: 'denied' as const, principal: 'gha:<!channel>', approver: 'bob', reason: 'see <https://evil.example|docs> & `x`' }
    const message = formatSlack({ type: 'review.decided', at, review: hostile, grant: null }, { id: 'ntf_1' })
    const all = JSON.stringify(message)
    expect(all).not.toContain('<!channel>')
    expect(all).not.toContain('<https://evil.example')
    expect(all).toContain('&lt;!channel&gt;')
    expect(all).toContain('&amp;')
    expect(message.text).toBe(`Review ${review.id} was denied by bob`)
  })
})

describe('delivery', () => {
  it('retries 5xx with backoff, gives up on other 4xx, and counts both', async () => {
    const { url, received } = await receiver([503, 500, 200, 400])
    const failures: string[] = []
    let n = 0
    const notifier = createNotifier([{ webhook: { url } }], { webhook: { baseDelayMs: 5, onError: (_e, id) => failures.push(id) }, newId: () => `ntf_${n++}` })
    notifier.publish(created)
    notifier.publish({ type: 'review.expired', at, review: { ...review, state: 'expired' } })
    await notifier.flush()
    expect(received).toHaveLength(4)
    // Retries carry the same delivery id, so receivers can de-duplicate.
    expect(received.map((r) => r.headers['skillgate-delivery'])).toEqual(['ntf_0', 'ntf_0', 'ntf_0', 'ntf_1'])
    expect(notifier.stats()[0]).toMatchObject({ delivered: 1, failed: 1, retries: 2, dropped: 0 })
    expect(failures).toEqual(['ntf_1'])
  })

  it('drops and counts when the queue is full instead of growing', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slowFetch: typeof fetch = async () => {
      await gate
      return new Response(null, { status: 200 })
    }
    const notifier = createNotifier([{ webhook: { url: 'https://hooks.example/x' } }], { webhook: { queueSize: 2, fetch: slowFetch } })
    for (let i = 0; i < 5; i++) notifier.publish(created)
    expect(notifier.stats()[0]).toMatchObject({ queued: 2, dropped: 3 })
    release()
    await notifier.flush()
    expect(notifier.stats()[0]).toMatchObject({ queued: 0, delivered: 2, dropped: 3 })
  })

  it('sends only the chosen event types, once per channel', async () => {
    const a = await receiver()
    const b = await receiver()
    const notifier = createNotifier([{ webhook: { url: a.url } }, { webhook: { url: b.url, format: 'slack' } }], { events: ['review.created'] })
    notifier.publish(created)
    notifier.publish({ type: 'grant.revoked', at, grant: { ...grant, revokedAt: at, revokedBy: 'admin' } })
    await notifier.flush()
    expect([a.received.length, b.received.length]).toEqual([1, 1])
    expect(a.received[0]?.headers['skillgate-delivery']).toBe(b.received[0]?.headers['skillgate-delivery'])
  })
})
