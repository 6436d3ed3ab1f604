import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runAuditCommand } from '../../src/cli/commands/audit.js'
import { defaultRules, messageBody, startStack, type Stack } from '../e2e/harness.js'
import { clickBody, slackHeaders, startFakeSlack, type FakeSlack } from '../fixtures/slack/fake-slack.js'

/**
 * Issue #17 item 5: approvals from Slack. A real gateway posts the review to a local fake of the
 * Slack Web API, a signed click approves it, the message is updated to say who, and the job's
 * retry passes. Bad signature, stale timestamp, replay, unknown user and self-approval are refused.
 */
const SIGNING_SECRET = 'slack-signing-secret-0123456789abcdef'
const BOT_TOKEN = 'xoxb-test-bot-token-0123456789'
const CHANNEL = 'C0APPROVALS'
const ALICE = 'U0ALICE01'
const MALLORY = 'U0MALLORY'
const AUDITOR = 'U0AUDITOR'
const CONSOLE_TOKEN = 'console-approver-token-0123456789abcdef'

let stack: Stack
let slack: FakeSlack

beforeAll(async () => {
  slack = await startFakeSlack()
  stack = await startStack({
    configure: (config) => {
      config.rules = [{ ...structuredClone(defaultRules[0]!), approval: { required: true, grantTtl: '1h', uses: 1 } }]
      config.admin = { tokens: [{ name: 'release-console', secret: { value: CONSOLE_TOKEN }, roles: ['approver'] }] }
      config.notify = [
        {
          slack: {
            botToken: { value: BOT_TOKEN },
            signingSecret: { value: SIGNING_SECRET },
            channel: CHANNEL,
            apiUrl: slack.url,
            approvers: {
              [ALICE]: { name: 'Alice Example', email: 'alice@example.com', roles: ['approver'] },
              // Mallory's own workload identity: the same iss and sub as the job's token.
              [MALLORY]: { name: 'Mallory', roles: ['approver'], issuer: 'https://ci.skillgate.test', subject: 'repo:acme/app:ref:refs/heads/mallory' },
              [AUDITOR]: { name: 'Audrey Auditor', roles: ['auditor'] },
            },
          },
        },
      ]
    },
  })
})
afterAll(async () => {
  await stack?.close()
  await slack?.close()
})

/** Each branch is its own repository, so its own principal: reviews and grants do not mix between tests. */
const callAs = async (sub: string) =>
  fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    body: messageBody(),
    headers: { 'x-api-key': await stack.mint({ sub, repository_id: sub.split('/').at(-1) }), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
  })

/** A job asks, gets 403, and the gateway posts the review with buttons; resolves the review id and message ts. */
async function heldReview(sub: string): Promise<{ reviewId: string; ts: string }> {
  const res = await callAs(sub)
  expect(res.status).toBe(403)
  const reviewId = res.headers.get('skillgate-review-id') ?? ''
  const posted = await slack.waitFor('chat.postMessage', (c) => JSON.stringify(c.body).includes(reviewId))
  const reply = { ts: '' }
  // The fake answers ts values in order; find the one it gave this post.
  reply.ts = `${1_700_000_000 + slack.calls.filter((c) => c.method === 'chat.postMessage').indexOf(posted)}.000100`
  return { reviewId, ts: reply.ts }
}

async function click(user: string, action: 'approve' | 'deny', reviewId: string, ts: string, headers?: (body: string) => Record<string, string>) {
  const body = clickBody({ user, actionId: `skillgate.review.${action}`, reviewId, channel: CHANNEL, messageTs: ts })
  return fetch(`${stack.url}/admin/slack/interactions`, { method: 'POST', body, headers: headers?.(body) ?? slackHeaders(SIGNING_SECRET, body) })
}

const reviewState = async (id: string) => (await stack.gateway.audit.storage.reviews.get(id))?.state

describe('approvals from Slack', () => {
  it('posts the review with Approve and Deny buttons using the bot token', async () => {
    const { reviewId } = await heldReview('repo:acme/app:ref:refs/heads/post')
    const posted = await slack.waitFor('chat.postMessage', (c) => JSON.stringify(c.body).includes(reviewId))
    expect(posted.authorization).toBe(`Bearer ${BOT_TOKEN}`)
    expect(posted.body.channel).toBe(CHANNEL)
    const actions = (posted.body.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')
    expect(actions?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ['skillgate.review.approve', reviewId],
      ['skillgate.review.deny', reviewId],
    ])
  })

  it('a signed click approves: the message names the approver, the retry passes, the audit names the person', async () => {
    const sub = 'repo:acme/app:ref:refs/heads/approve'
    const { reviewId, ts } = await heldReview(sub)
    const res = await click(ALICE, 'approve', reviewId, ts)
    expect(res.status).toBe(200)
    const review = await stack.gateway.audit.storage.reviews.get(reviewId)
    expect(review).toMatchObject({ state: 'approved', approver: `slack:${ALICE}` })
    const updated = await slack.waitFor('chat.update', (c) => c.body.ts === ts)
    expect(updated.body.channel).toBe(CHANNEL)
    expect(JSON.stringify(updated.body.blocks)).toContain('Approved by')
    expect(JSON.stringify(updated.body.blocks)).toContain('Alice Example')
    expect(JSON.stringify(updated.body.blocks)).not.toContain('skillgate.review.approve')
    expect((await callAs(sub)).status).toBe(200)
    const { records } = await stack.gateway.audit.storage.audit.list({ actor: `slack:${ALICE}`, limit: 10 })
    expect(records[0]).toMatchObject({ endpoint: 'admin', reviewId, issuer: 'admin:slack', claims: { name: 'Alice Example', email: 'alice@example.com' } })
    expect(records[0]?.reasons[0]?.code).toBe('review.approve')
  })

  it('a deny click denies', async () => {
    const { reviewId, ts } = await heldReview('repo:acme/app:ref:refs/heads/deny')
    expect((await click(ALICE, 'deny', reviewId, ts)).status).toBe(200)
    expect(await reviewState(reviewId)).toBe('denied')
  })

  it('refuses a bad signature, a stale timestamp and a replay (401), deciding nothing', async () => {
    const { reviewId, ts } = await heldReview('repo:acme/app:ref:refs/heads/forged')
    const forged = await click(ALICE, 'approve', reviewId, ts, (body) => slackHeaders('not-the-signing-secret', body))
    expect(forged.status).toBe(401)
    expect(await forged.text()).toContain('does not match')
    const stale = await click(ALICE, 'approve', reviewId, ts, (body) => slackHeaders(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 301))
    expect(stale.status).toBe(401)
    expect(await stale.text()).toContain('5 minutes')
    const unsigned = await click(ALICE, 'approve', reviewId, ts, () => ({ 'content-type': 'application/x-www-form-urlencoded' }))
    expect(unsigned.status).toBe(401)
    expect(await reviewState(reviewId)).toBe('pending')

    // The same signed deny twice: the first decides, the second is refused as a replay.
    const body = clickBody({ user: ALICE, actionId: 'skillgate.review.deny', reviewId, channel: CHANNEL, messageTs: ts })
    const headers = slackHeaders(SIGNING_SECRET, body)
    const first = await fetch(`${stack.url}/admin/slack/interactions`, { method: 'POST', body, headers })
    const replay = await fetch(`${stack.url}/admin/slack/interactions`, { method: 'POST', body, headers })
    expect([first.status, replay.status]).toEqual([200, 401])
    expect(await replay.text()).toContain('replay')
  })

  it('replicas of one store: a replay is refused by another replica, and a console decision there updates the message', async () => {
    // A second gateway on the same SQLite file, with the same Slack app: what a load balancer would reach.
    const replica = await startStack({
      configure: (config) => {
        config.storage = { url: stack.gateway.config.storage.url }
        config.admin = { tokens: [{ name: 'replica-console', secret: { value: `${CONSOLE_TOKEN}-replica` }, roles: ['approver'] }] }
        config.notify = [{ slack: { botToken: { value: BOT_TOKEN }, signingSecret: { value: SIGNING_SECRET }, channel: CHANNEL, apiUrl: slack.url, approvers: { U0BOB: { name: 'Bob Example', roles: ['approver'] } } } }]
      },
    })
    try {
      const { reviewId, ts } = await heldReview('repo:acme/app:ref:refs/heads/two-replicas')
      const body = clickBody({ user: 'U0BOB', actionId: 'skillgate.review.deny', reviewId, channel: CHANNEL, messageTs: ts })
      const headers = slackHeaders(SIGNING_SECRET, body)
      const first = await fetch(`${replica.url}/admin/slack/interactions`, { method: 'POST', body, headers })
      const replay = await fetch(`${stack.url}/admin/slack/interactions`, { method: 'POST', body, headers })
      expect([first.status, replay.status]).toEqual([200, 401])
      expect(await replay.text()).toContain('replay')
      expect(await reviewState(reviewId)).toBe('denied')

      // Posted by the first gateway; approved in the replica's console, which never saw the message.
      const other = await heldReview('repo:acme/app:ref:refs/heads/replica-console')
      const res = await fetch(`${replica.url}/admin/api/reviews/${other.reviewId}/approve`, { method: 'POST', headers: { authorization: `Bearer ${CONSOLE_TOKEN}-replica` } })
      expect(res.status).toBe(200)
      const updated = await slack.waitFor('chat.update', (c) => c.body.ts === other.ts)
      expect(JSON.stringify(updated.body.blocks)).toContain('replica-console')
    } finally {
      await replica.close()
    }
  })

  it('refuses a Slack user who is not in approvers, and one without an approver role, telling them why', async () => {
    const { reviewId, ts } = await heldReview('repo:acme/app:ref:refs/heads/unknown')
    expect((await click('U0STRANGER', 'approve', reviewId, ts)).status).toBe(200)
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.body.user === 'U0STRANGER')
    expect(told.body).toMatchObject({ channel: CHANNEL })
    expect(String(told.body.text)).toContain('not an approver')
    expect((await click(AUDITOR, 'approve', reviewId, ts)).status).toBe(200)
    const auditorTold = await slack.waitFor('chat.postEphemeral', (c) => c.body.user === AUDITOR)
    expect(String(auditorTold.body.text)).toContain('needs one of the roles approver')
    expect(await reviewState(reviewId)).toBe('pending')
  })

  it('refuses self-approval: the clicker is the person whose token asked', async () => {
    const { reviewId, ts } = await heldReview('repo:acme/app:ref:refs/heads/mallory')
    expect((await click(MALLORY, 'approve', reviewId, ts)).status).toBe(200)
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.body.user === MALLORY)
    expect(String(told.body.text)).toContain('cannot approve its own request')
    expect(await reviewState(reviewId)).toBe('pending')
  })

  it('a decision in the console updates the Slack message too, naming the token', async () => {
    const { reviewId, ts } = await heldReview('repo:acme/app:ref:refs/heads/console')
    const res = await fetch(`${stack.url}/admin/api/reviews/${reviewId}/approve`, { method: 'POST', headers: { authorization: `Bearer ${CONSOLE_TOKEN}` } })
    expect(res.status).toBe(200)
    const updated = await slack.waitFor('chat.update', (c) => c.body.ts === ts)
    expect(JSON.stringify(updated.body.blocks)).toContain('release-console')
  })

  it('audit list --actor lists what one person or token did, through the API and the CLI', async () => {
    const byActor = async (actor: string) => {
      const res = await fetch(`${stack.url}/admin/api/audit?actor=${encodeURIComponent(actor)}`, { headers: { authorization: `Bearer ${CONSOLE_TOKEN}` } })
      return ((await res.json()) as { records: Array<{ principal: string; endpoint: string; reasons: Array<{ code: string }> }> }).records
    }
    const alice = await byActor(`slack:${ALICE}`)
    expect(alice.map((r) => r.reasons[0]?.code).sort()).toEqual(['review.approve', 'review.deny', 'review.deny'])
    expect(alice.every((r) => r.principal === `slack:${ALICE}` && r.endpoint === 'admin')).toBe(true)
    expect((await byActor('token:release-console')).map((r) => r.reasons[0]?.code)).toEqual(['review.approve'])
    // A workload principal is never an actor, even when asked for by its exact id.
    const workload = (await stack.gateway.audit.storage.audit.list({ decision: 'approval_required', limit: 1 })).records[0]?.principal
    expect(workload).toBeTruthy()
    expect(await byActor(workload!)).toEqual([])

    let out = ''
    vi.stubEnv('SKILLGATE_URL', stack.url)
    vi.stubEnv('SKILLGATE_ADMIN_TOKEN', CONSOLE_TOKEN)
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true))
    try {
      expect(await runAuditCommand(['list', '--actor', 'token:release-console'])).toBe(0)
    } finally {
      spy.mockRestore()
      vi.unstubAllEnvs()
    }
    expect(out).toContain('token:release-console')
    expect(out).toContain('1 record(s)')
  })

  it('never logs the bot token or the signing secret', () => {
    const logs = stack.logs.join('')
    expect(logs).not.toContain(BOT_TOKEN)
    expect(logs).not.toContain(SIGNING_SECRET)
  })
})
