import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createApprovals } from '../../src/approvals/index.js'
import { createNotifier } from '../../src/notify/index.js'
import { openStorage } from '../../src/storage/open-storage.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

it('tells a Slack channel about a new review and its decision, end to end', async () => {
  const bodies: Array<{ event: string; body: { text: string } }> = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push({ event: String(req.headers['skillgate-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-notify-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const storage = await openStorage(`sqlite:${join(dir, 'store.db')}`)
  await storage.migrate()
  cleanup.push(() => storage.close())

  const notifier = createNotifier([{ webhook: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, format: 'slack' } }])
  const approvals = createApprovals({
    reviews: storage.reviews,
    grants: storage.grants,
    rules: [{ id: 'deploy', approval: { required: true } }],
    sweepMs: 0,
    onEvent: (event) => notifier.publish(event),
  })
  cleanup.push(() => approvals.close())
  const admission = await approvals.admit({
    decision: { effect: 'allow', rule: 'deploy', principal: 'gha:1/2', reasons: [] },
    requester: { issuer: 'https://issuer.example', subject: 'repo:acme/app' },
    summary: { endpoint: 'messages', model: 'claude-sonnet-4-5', skills: [], tools: [], requestId: 'req_1' },
  })
  if (admission.kind !== 'approval_required') throw new Error('expected a review')
  await approvals.decide(admission.review.id, { decision: 'approved', approver: { id: 'oidc:alice', roles: ['approver'] }, reason: 'ship it' })
  await notifier.flush()
  expect(bodies.map((b) => b.event)).toEqual(['review.created', 'review.decided'])
  expect(bodies[0]?.body.text).toContain(admission.review.id)
  expect(bodies[1]?.body.text).toBe(`Review ${admission.review.id} was approved by oidc:alice`)
})
