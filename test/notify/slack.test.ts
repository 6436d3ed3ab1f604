import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSlackClick } from '../../src/admin/slack/payload.js'
import { ReplayGuard, SlackApprovalChannel, createSlackWebApi, signSlackRequest, verifySlackSignature, type NotificationEvent, type SlackWebApi } from '../../src/notify/index.js'
import type { Review } from '../../src/storage/ports.js'
import { clickBody, startFakeSlack } from '../fixtures/slack/fake-slack.js'

// The worked example of Slack's "Verifying requests from Slack" page: secret, timestamp, slash-command body, signature.
const docSecret = '8f742231b10e8888abcd99yyyzzz85a5'
const docTimestamp = '1531420618'
const docBody =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
const docSignature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503'

describe('Slack request signatures', () => {
  it("reproduces Slack's documented example", () => {
    expect(signSlackRequest(docSecret, docTimestamp, docBody)).toBe(docSignature)
    const check = verifySlackSignature(docSecret, { timestamp: docTimestamp, signature: docSignature, body: Buffer.from(docBody) }, Number(docTimestamp) + 299)
    expect(check).toEqual({ ok: true })
  })

  it('refuses a timestamp more than 5 minutes away, either side, whatever the signature', () => {
    const at = Number(docTimestamp)
    const signed = { timestamp: docTimestamp, signature: docSignature, body: Buffer.from(docBody) }
    expect(verifySlackSignature(docSecret, signed, at + 301)).toEqual({ ok: false, reason: 'stale' })
    expect(verifySlackSignature(docSecret, signed, at - 301)).toEqual({ ok: false, reason: 'stale' })
    expect(verifySlackSignature(docSecret, { ...signed, timestamp: '1531420618.5' }, at)).toEqual({ ok: false, reason: 'missing' })
    expect(verifySlackSignature(docSecret, { ...signed, signature: undefined }, at)).toEqual({ ok: false, reason: 'missing' })
  })

  it('refuses any change to the body, the timestamp or the signature (fixed-seed property)', () => {
    const at = Number(docTimestamp)
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat({ max: docBody.length - 1 }), (insert, position) => {
        const body = Buffer.from(docBody.slice(0, position) + insert + docBody.slice(position))
        expect(verifySlackSignature(docSecret, { timestamp: docTimestamp, signature: docSignature, body }, at)).toEqual({ ok: false, reason: 'mismatch' })
      }),
      { seed: 17, numRuns: 200 },
    )
    const body = Buffer.from(docBody)
    expect(verifySlackSignature(docSecret, { timestamp: String(at + 1), signature: docSignature, body }, at)).toEqual({ ok: false, reason: 'mismatch' })
    expect(verifySlackSignature(docSecret, { timestamp: docTimestamp, signature: docSignature.toUpperCase(), body }, at)).toEqual({ ok: false, reason: 'mismatch' })
    expect(verifySlackSignature('another-secret', { timestamp: docTimestamp, signature: docSignature, body }, at)).toEqual({ ok: false, reason: 'mismatch' })
  })

  it('accepts a signature once within the window, and refuses rather than forgets when full', () => {
    const guard = new ReplayGuard(2)
    expect(guard.firstUse('v0=a', 1_000)).toBe(true)
    expect(guard.firstUse('v0=a', 1_100)).toBe(false)
    expect(guard.firstUse('v0=b', 1_100)).toBe(true)
    expect(guard.firstUse('v0=c', 1_100)).toBe(false)
    // Past twice the window the oldest are forgotten (their timestamps would be refused as stale anyway).
    expect(guard.firstUse('v0=c', 1_000 + 601)).toBe(true)
  })
})

describe('Slack click payloads', () => {
  const click = { user: 'U0ALICE01', reviewId: 'rev_01JB7Z5Q9W3Y4X2V1T0S9R8Q7P', channel: 'C0APPROVALS', messageTs: '1700000000.000100' }

  it('reads the user, the decision, the review and the message', () => {
    const parsed = parseSlackClick(Buffer.from(clickBody({ ...click, actionId: 'skillgate.review.deny' })))
    expect(parsed).toEqual({ ok: true, click: { user: click.user, decision: 'denied', reviewId: click.reviewId, message: { channel: click.channel, ts: click.messageTs } } })
  })

  it('refuses other actions, a second payload field and non-JSON', () => {
    expect(parseSlackClick(Buffer.from(clickBody({ ...click, actionId: 'someone.else' })))).toMatchObject({ ok: false })
    const twice = `${clickBody({ ...click, actionId: 'skillgate.review.approve' })}&payload=%7B%7D`
    expect(parseSlackClick(Buffer.from(twice))).toEqual({ ok: false, reason: 'expected one form field "payload"' })
    expect(parseSlackClick(Buffer.from('payload=not-json'))).toEqual({ ok: false, reason: 'payload is not JSON' })
    expect(parseSlackClick(Buffer.from(clickBody({ ...click, reviewId: 'grt_01', actionId: 'skillgate.review.approve' })))).toMatchObject({ ok: false })
  })
})

const review: Review = {
  id: 'rev_01JB7Z5Q9W3Y4X2V1T0S9R8Q7P',
  principal: 'gha:1234567/42',
  rule: 'release-notes',
  fingerprint: 'f'.repeat(64),
  state: 'pending',
  summary: { endpoint: 'messages', model: 'claude-sonnet-4-5', skills: [], tools: [], requestId: 'req_1' },
  requester: { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/app:ref:refs/heads/main' },
  createdAt: new Date('2030-01-01T09:00:00.000Z'),
  expiresAt: new Date('2030-01-01T10:00:00.000Z'),
  decidedAt: null,
  approver: null,
  approverName: null,
  reason: null,
  grantId: null,
  version: 1,
}

describe('Slack approval channel', () => {
  it('posts a review, then updates that message with the decision', async () => {
    const slack = await startFakeSlack()
    try {
      const api = createSlackWebApi({ baseUrl: slack.url, botToken: 'xoxb-1' })
      const channel = new SlackApprovalChannel({ channel: 'C0APPROVALS', api })
      const at = new Date()
      channel.send({ type: 'review.created', at, review }, { id: 'ntf_1' })
      const decided: NotificationEvent = { type: 'review.decided', at, review: { ...review, state: 'denied', approver: 'slack:U0ALICE01', reason: 'not <!here> today' }, grant: null, approverName: 'Alice <@U0EVE>' }
      channel.send(decided, { id: 'ntf_2' })
      await channel.flush()
      expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update'])
      const update = slack.calls[1]!
      expect(update.body).toMatchObject({ channel: 'C0APPROVALS', ts: '1700000000.000100' })
      const text = JSON.stringify(update.body.blocks)
      expect(text).toContain('Denied by')
      // Names and reasons are escaped: no mention or broadcast can be injected through them.
      expect(text).not.toContain('<@U0EVE>')
      expect(text).not.toContain('<!here>')
      expect(channel.stats()).toMatchObject({ delivered: 2, failed: 0 })
    } finally {
      await slack.close()
    }
  })

  it('counts a failed call and goes on (Slack answers ok:false with HTTP 200)', async () => {
    const errors: string[] = []
    const failing: SlackWebApi = createSlackWebApi({
      baseUrl: 'http://127.0.0.1:9/api/',
      botToken: 'xoxb-secret-never-shown',
      fetch: async () => new Response(JSON.stringify({ ok: false, error: 'channel_not_found' }), { status: 200 }),
    })
    const channel = new SlackApprovalChannel({ channel: 'C0NOPE', api: failing, onError: (e) => errors.push(e.message) })
    channel.send({ type: 'review.created', at: new Date(), review }, { id: 'ntf_1' })
    await channel.flush()
    expect(errors).toEqual(['Slack chat.postMessage failed: channel_not_found'])
    expect(channel.stats()).toMatchObject({ delivered: 0, failed: 1 })
  })
})
