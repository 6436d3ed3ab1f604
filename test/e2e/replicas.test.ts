import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { runReviewsCommand } from '../../src/cli/commands/reviews.js'
import { runRevokeCommand } from '../../src/cli/commands/revoke.js'
import { createTestSchema, describePostgres, postgresTestUrl } from '../contract/postgres-env.js'
import { clearOfDayBoundary, defaultRules, messageBody, startStack, type Stack } from './harness.js'

/**
 * Two gateway replicas on one PostgreSQL (SPEC §7): a revocation, an approval, a grant and a
 * budget change made through one replica are seen by the other within one second.
 */
const ADMIN = 'replica-admin-token-0123456789abcdef'
let schema: Awaited<ReturnType<typeof createTestSchema>> | undefined
let a: Stack
let b: Stack

const rule = (id: string, sub: string, extra: Record<string, unknown>) => ({
  ...structuredClone(defaultRules[0]!),
  id,
  match: { subject: `repo:acme/${sub}:*`, claims: { repository_owner_id: '1234567' } },
  ...extra,
})

await describePostgres('two replicas on one PostgreSQL', () => {
  beforeAll(async () => {
    schema = await createTestSchema()
    const url = `${postgresTestUrl}?options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`
    const configure = (config: Record<string, unknown>) => {
      config.storage = { url }
      config.rules = [rule('plain', 'plain', {}), rule('approved', 'approved', { approval: { required: true, grantTtl: '1h' } }), rule('budget', 'budget', { limits: { outputTokensPerDay: 70 } })]
      config.admin = { tokens: [{ secret: { value: ADMIN }, roles: ['admin', 'approver'] }] }
    }
    a = await startStack({ configure })
    b = await startStack({ configure })
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await schema?.drop()
  })

  // Each stack has its own test issuer key: a job's token for a replica comes from that stack, with
  // the same claims, so the principal is the same on both.
  const call = async (stack: Stack, repo: string, repositoryId: string, stream = false, iat?: number) =>
    fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      body: messageBody(stream ? { stream: true } : {}),
      headers: {
        'x-api-key': await stack.mint({ sub: `repo:acme/${repo}:ref:refs/heads/main`, repository_id: repositoryId, ...(iat ? { iat } : {}) }),
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
    })
  // The bound is timed from the start of the probe that saw the change, so a slow probe on a
  // loaded machine does not count against the replicas' one second.
  const within = async (check: () => Promise<number>, expected: number) => {
    const changedAt = Date.now()
    let probeStartedAt = 0
    const probe = () => {
      probeStartedAt = Date.now()
      return check()
    }
    await expect.poll(probe, { timeout: 5_000, interval: 50 }).toBe(expected)
    expect(probeStartedAt - changedAt).toBeLessThan(1_000)
  }

  async function cli(command: (args: string[]) => Promise<number>, url: string, ...args: string[]) {
    vi.stubEnv('SKILLGATE_URL', url)
    vi.stubEnv('SKILLGATE_ADMIN_TOKEN', ADMIN)
    let out = ''
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true))
    try {
      expect(await command(args)).toBe(0)
      return out
    } finally {
      spy.mockRestore()
      vi.unstubAllEnvs()
    }
  }

  it('a revocation through replica A is enforced by replica B within a second', async () => {
    expect((await call(b, 'plain', '900')).status).toBe(200)
    await cli(runRevokeCommand, a.url, 'principal', 'ci:1234567/900', '--before', new Date(Date.now() + 5_000).toISOString())
    await within(async () => (await call(b, 'plain', '900')).status, 401)
  })

  it('an approval on replica A becomes a grant that replica B honours within a second', async () => {
    const first = await call(b, 'approved', '901')
    expect(first.status).toBe(403)
    const review = first.headers.get('skillgate-review-id')!
    await cli(runReviewsCommand, a.url, 'approve', review)
    await within(async () => (await call(b, 'approved', '901')).status, 200)
  })

  // 70 fits one 64-token reservation; after a spend, a second one no longer fits.
  it('a budget spent on replica A is enforced by replica B within a second', async () => {
    await clearOfDayBoundary()
    const spend = await call(a, 'budget', '902', true)
    expect(spend.status).toBe(200)
    await spend.text()
    await within(async () => (await call(b, 'budget', '902')).status, 429)
  })

  it('both replicas write one verifiable audit chain', async () => {
    const report = await a.gateway.audit.storage.audit.verify()
    expect(report.ok).toBe(true)
    expect(report.records).toBeGreaterThan(6)
  })
})
