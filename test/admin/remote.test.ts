import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminClientError, adminClient, adminClientFromEnv } from '../../src/cli/remote.js'
import { UsageError } from '../../src/cli/usage-error.js'
import { TOKENS, startAdminStack, type AdminStack } from './helpers.js'

let s: AdminStack
let stream = { id: '', text: '' }

beforeAll(async () => {
  s = await startAdminStack()
  stream = await s.v1(await s.stack.mint(), true)
  await s.v1(await s.stack.mint({ repository_id: '80' }))
})
afterAll(async () => {
  await s.close()
})

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const messageOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: Error) => error.message)

describe('CLI admin client (src/cli/remote.ts)', () => {
  it('is built from --url, else SKILLGATE_URL, with SKILLGATE_ADMIN_TOKEN; absent means offline', () => {
    expect(adminClientFromEnv(undefined, {})).toBeUndefined()
    expect(adminClientFromEnv(undefined, { SKILLGATE_URL: 'http://127.0.0.1:9/' })?.url).toBe('http://127.0.0.1:9')
    expect(adminClientFromEnv('http://127.0.0.1:7', { SKILLGATE_URL: 'http://127.0.0.1:9' })?.url).toBe('http://127.0.0.1:7')
    expect(() => adminClientFromEnv('localhost:8080', {})).toThrow(UsageError)
  })

  it('lists, shows, replays and exports the audit', async () => {
    const client = adminClient({ url: s.url, token: TOKENS.auditor })
    const { records } = await client.auditList({ limit: 10 })
    expect(records.map((r) => r.id)).toContain(stream.id)
    expect((await client.auditGet(stream.id)).response?.kind).toBe('sse')
    let replayed = ''
    for await (const chunk of client.auditReplay(stream.id, { speed: 1000 })) replayed += chunk
    expect(replayed).toBe(stream.text)
    const lines: string[] = []
    for await (const line of client.auditExport({ principal: 'ci:1234567/80' })) lines.push(line)
    expect(lines.map((l) => (JSON.parse(l) as { principal: string }).principal)).toEqual(['ci:1234567/80'])
    expect((await client.auditVerify()).ok).toBe(true)
  })

  it('revokes and lists revocations, decides reviews and revokes grants', async () => {
    const admin = adminClient({ url: s.url, token: TOKENS.admin })
    expect(await admin.revoke({ kind: 'principal', principal: 'ci:1234567/81', reason: 'test' })).toMatchObject({ kind: 'principal' })
    expect((await admin.revocations()).revocations.map((r) => r.subject)).toContain('ci:1234567/81')
    await admin.liftPrincipal('ci:1234567/81')
    expect((await admin.revocations()).revocations.map((r) => r.subject)).not.toContain('ci:1234567/81')
    const approver = adminClient({ url: s.url, token: TOKENS.approver })
    const id = await s.newReview()
    expect((await approver.reviews({ state: 'pending' })).reviews.map((r) => r.id)).toContain(id)
    const { grant } = await approver.approve(id, 'ok')
    expect((await approver.grants({ active: true })).grants.map((g) => g.id)).toContain(grant!.id)
    expect((await approver.revokeGrant(grant!.id)).revokedAt).not.toBeNull()
  })

  it('explains, shows the config, principals and health', async () => {
    const client = adminClient({ url: s.url, token: TOKENS.auditor })
    const explained = await client.explain({ issuer: 'ci', claims: { sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567', repository_id: '1' }, request: { method: 'GET', path: '/v1/models' } })
    expect(explained.decision.effect).toBe('allow')
    expect(JSON.stringify(await client.config())).not.toContain(TOKENS.admin)
    expect((await client.principals()).principals.length).toBeGreaterThan(0)
    expect((await client.health()).ok).toBe(true)
  })

  it('says what to do when the gateway is unreachable', async () => {
    const client = adminClient({ url: `http://127.0.0.1:${await closedPort()}`, token: TOKENS.admin })
    const message = await messageOf(client.health())
    expect(message).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is it running\? Point --url or SKILLGATE_URL at it/)
  })

  it('says to set SKILLGATE_ADMIN_TOKEN on 401, and which role is missing on 403', async () => {
    expect(await messageOf(adminClient({ url: s.url }).health())).toMatch(/^no admin token: set SKILLGATE_ADMIN_TOKEN/)
    expect(await messageOf(adminClient({ url: s.url, token: 'wrong-token' }).health())).toMatch(/^SKILLGATE_ADMIN_TOKEN is not accepted/)
    const refused = adminClient({ url: s.url, token: TOKENS.auditor }).revoke({ kind: 'issuer', issuer: 'ci' })
    await expect(refused).rejects.toBeInstanceOf(AdminClientError)
    expect(await messageOf(refused)).toMatch(/^this token lacks role admin/)
    expect(await messageOf(adminClient({ url: s.url, token: TOKENS.auditor }).reviews())).toMatch(/^this token lacks role admin or approver/)
  })

  it('passes the gateway\'s own message for other refusals', async () => {
    const error = await adminClient({ url: s.url, token: TOKENS.admin })
      .revoke({ kind: 'issuer', issuer: 'gihtub' })
      .catch((e: AdminClientError) => e)
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining('no issuer "gihtub"') })
  })
})
