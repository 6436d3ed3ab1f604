import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runReviewsCommand } from '../../src/cli/commands/reviews.js'
import { MOCK_PII } from '../../src/mock-upstream/index.js'
import { clearOfDayBoundary, clearOfMinuteBoundary, defaultRules, messageBody, startStack, type Stack } from './harness.js'

/**
 * Approvals and limits end to end (issue "Policy and access", done-when): a job held until a human
 * approves from the CLI; the 403-then-retry flow with a just-in-time grant; a token budget enforced
 * from streamed usage; a request rate limit with retry-after.
 */
const APPROVER_TOKEN = 'approver-token-for-tests-0123456789'
let stack: Stack

const rule = (id: string, sub: string, extra: Record<string, unknown>) => ({
  ...structuredClone(defaultRules[0]!),
  id,
  match: { subject: `repo:acme/${sub}:*`, claims: { repository_owner_id: '1234567' } },
  ...extra,
})

beforeAll(async () => {
  stack = await startStack({
    configure: (config) => {
      config.rules = [
        rule('held', 'held', { approval: { required: true, grantTtl: '1h', hold: '20s' } }),
        rule('ask-first', 'ask', { approval: { required: true, grantTtl: '10m', uses: 1 } }),
        rule('budgeted', 'budget', { limits: { outputTokensPerDay: 70 } }), // one 64-token reservation fits, not two
        rule('rated', 'rated', { limits: { requestsPerMinute: 2 } }),
        rule('held-deny', 'hdeny', { approval: { required: true, grantTtl: '1h', hold: '20s' } }),
        rule('grant-kept', 'kept', { approval: { required: true, grantTtl: '1h', uses: 1 } }),
        rule('rl-kept', 'rlkept', { approval: { required: true, grantTtl: '1h', uses: 1 }, limits: { requestsPerMinute: 1 } }),
      ]
      config.masking = { requests: { block: ['aws-access-key'] } }
      config.admin = { tokens: [{ secret: { value: APPROVER_TOKEN }, roles: ['approver'] }] }
    },
  })
})
afterAll(async () => {
  await stack.close()
})

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  vi.stubEnv('SKILLGATE_URL', stack.url)
  vi.stubEnv('SKILLGATE_ADMIN_TOKEN', APPROVER_TOKEN)
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  try {
    return { code: await runReviewsCommand(args), out }
  } finally {
    spy.mockRestore()
    vi.unstubAllEnvs()
  }
}

const call = async (repo: string, body = messageBody()) =>
  fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    body,
    headers: { 'x-api-key': await stack.mint({ sub: `repo:acme/${repo}:ref:refs/heads/main` }), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
  })

describe('approval with hold', () => {
  it('holds the job until an approver approves from the CLI, then the call completes', async () => {
    stack.mock.reset()
    const pending = call('held')
    let reviewId: string | undefined
    await expect
      .poll(async () => {
        const { out } = await cli('list', '--state', 'pending', '--json')
        reviewId = (JSON.parse(out) as { id: string; rule: string }[]).find((r) => r.rule === 'held')?.id
        return reviewId
      }, { timeout: 10_000 })
      .toBeDefined()
    expect(stack.mock.requests, 'nothing goes upstream while held').toHaveLength(0)
    const approved = await cli('approve', reviewId!, '--reason', 'release day')
    expect(approved.code).toBe(0)
    expect(approved.out).toContain(`review ${reviewId} approved`)
    const res = await pending
    expect(res.status).toBe(200)
    expect(stack.mock.requests).toHaveLength(1)
    const requestId = res.headers.get('skillgate-request-id')!
    const record = await stack.gateway.audit.storage.audit.get(requestId)
    expect(record, 'a held call is recorded with its review whatever the outcome').toMatchObject({ rule: 'held', outcome: 'completed', decision: 'approval_required', reviewId })
    expect(record?.reasons.at(-1)).toMatchObject({ code: 'approval-granted', detail: expect.stringMatching(new RegExp(`review ${reviewId} approved by .+; grant grt_`)) })
    const { out } = await cli('list', '--state', 'all', '--json')
    const review = (JSON.parse(out) as { id: string; summary: { requestId: string } }[]).find((r) => r.id === reviewId)
    expect(review?.summary.requestId, 'the review names the call that opened it').toBe(requestId)
    const { records } = await stack.gateway.audit.storage.audit.list({ decision: 'approval_required', limit: 100 })
    expect(records.map((r) => r.id), 'found by --decision approval_required').toContain(requestId)
  })

  it('a denial ends the held job with 403 carrying the reviewer\'s reason, recorded as a denial', async () => {
    const pending = call('hdeny')
    let reviewId: string | undefined
    await expect
      .poll(async () => {
        const { out } = await cli('list', '--state', 'pending', '--json')
        reviewId = (JSON.parse(out) as { id: string; rule: string }[]).find((r) => r.rule === 'held-deny')?.id
        return reviewId
      }, { timeout: 10_000 })
      .toBeDefined()
    expect((await cli('deny', reviewId!, '--reason', 'not on a Friday')).code).toBe(0)
    const res = await pending
    expect(res.status).toBe(403)
    expect(res.headers.get('skillgate-review-id')).toBe(reviewId)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error).toMatchObject({ type: 'permission_error', message: expect.stringContaining(`review ${reviewId} was denied by`) })
    expect(body.error.message).toContain('"not on a Friday"')
    const record = await stack.gateway.audit.storage.audit.get(res.headers.get('skillgate-request-id')!)
    expect(record).toMatchObject({ decision: 'approval_required', outcome: 'denied', reviewId, error: 'GW_AUTHZ_APPROVAL_DENIED' })
    expect(record?.reasons.at(-1)).toMatchObject({ code: 'approval-denied', detail: expect.stringContaining('"not on a Friday"') })
  })
})

describe('approval without hold', () => {
  it('answers 403 naming the review; after approval the retry passes on the grant (one use)', async () => {
    const first = await call('ask')
    expect(first.status).toBe(403)
    const reviewId = first.headers.get('skillgate-review-id')!
    expect(reviewId).toMatch(/^rev_/)
    const body = (await first.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('permission_error')
    expect(body.error.message).toContain(`skillgate reviews approve ${reviewId}`)
    const record = await stack.gateway.audit.storage.audit.get(first.headers.get('skillgate-request-id')!)
    expect(record).toMatchObject({ decision: 'approval_required', reviewId, outcome: 'denied' })

    expect((await cli('approve', reviewId)).code).toBe(0)
    expect((await call('ask')).status, 'the retry uses the grant').toBe(200)
    const third = await call('ask')
    expect(third.status, 'the grant had one use').toBe(403)
    expect(third.headers.get('skillgate-review-id')).not.toBe(reviewId)
  })

  it('the SDK sees a PermissionDeniedError with the review in its message', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.mint({ sub: 'repo:acme/ask:ref:refs/heads/other' }), maxRetries: 0 })
    await expect(client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('skillgate reviews approve rev_'),
    })
  })
})

describe('approval after the request guard and limits (issue #12 item 7)', () => {
  const secretBody = () => Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: `deploy with ${MOCK_PII.awsKey}` }] }))
  const usesLeft = async (rule: string) => {
    const page = await stack.gateway.audit.storage.grants.list({ rule, limit: 10 })
    return page.grants.map((g) => g.usesLeft)
  }

  it('a request blocked by the request guard does not consume a one-use grant', async () => {
    const first = await call('kept')
    expect(first.status).toBe(403)
    expect((await cli('approve', first.headers.get('skillgate-review-id')!)).code).toBe(0)
    expect(await usesLeft('grant-kept')).toEqual([1])
    const secret = secretBody()
    expect((await call('kept', secret)).status, 'blocked by the request guard').toBe(400)
    expect(await usesLeft('grant-kept'), 'the blocked request took no use').toEqual([1])
    expect((await call('kept')).status, 'the grant still lets the next call through').toBe(200)
    expect(await usesLeft('grant-kept')).toEqual([0])
  })

  it('a rate-limited request does not consume a one-use grant', async () => {
    await clearOfMinuteBoundary()
    const first = await call('rlkept') // 1 of 1 this minute: opens the review
    expect(first.status).toBe(403)
    expect((await cli('approve', first.headers.get('skillgate-review-id')!)).code).toBe(0)
    const limited = await call('rlkept')
    expect(limited.status, 'over requestsPerMinute').toBe(429)
    expect(await usesLeft('rl-kept'), 'the limited request took no use').toEqual([1])
  })
})

describe('limits', () => {
  it('enforces an output token budget counted from streamed usage', async () => {
    await clearOfDayBoundary()
    const first = await call('budget', messageBody({ stream: true }))
    expect(first.status).toBe(200)
    expect(await first.text()).toContain('message_stop')
    await expect.poll(async () => (await call('budget')).status, { timeout: 5_000 }).toBe(429)
    const refused = await call('budget')
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await refused.json()) as { error: { type: string; message: string } }).error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('outputTokensPerDay') })
  })

  it('enforces requests per minute with retry-after', async () => {
    await clearOfMinuteBoundary()
    expect((await call('rated')).status).toBe(200)
    expect((await call('rated')).status).toBe(200)
    const third = await call('rated')
    expect(third.status).toBe(429)
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
