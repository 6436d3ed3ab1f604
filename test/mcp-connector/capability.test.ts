import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors/gateway-error.js'
import { openGatewayTokens, type GatewayTokens } from '../../src/identity/gateway-token.js'
import { openRevocationCache, type RevocationCache } from '../../src/identity/revocation-cache.js'
import { CAPABILITY_PREFIX, openCapabilities, type CapabilityGrant, type Capabilities } from '../../src/mcp/capability.js'
import { openStorage } from '../../src/storage/index.js'
import type { Storage } from '../../src/storage/ports.js'

const ISSUER = 'https://gw.example'
const PUBLIC = 'https://gw.example/'
let dir: string
let clock: { now: number }
let tokens: GatewayTokens
let storage: Storage
let revocations: RevocationCache
let caps: Capabilities

const grant = (over: Partial<CapabilityGrant> = {}): CapabilityGrant => ({
  principal: 'gha:1/2',
  rule: 'ci',
  serverId: 'github',
  tools: ['search_issues'],
  causedBy: '01JREQUEST',
  claims: { repository: 'acme/app', run_id: 42, nested: { no: true }, long: 'x'.repeat(300) },
  clientSession: 'sess-1',
  expiresAt: clock.now + 60_000,
  ...over,
})

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(GatewayError)
  return (error as GatewayError).code
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-cap-'))
  // Real time: the revocation store keeps an entry until its expiry by the real clock.
  clock = { now: Date.now() }
  tokens = await openGatewayTokens({ keyFile: join(dir, 'keys.json'), issuer: ISSUER, ttlMs: 300_000, now: () => clock.now, retainAtLeastMs: 600_000 })
  storage = await openStorage(`sqlite:${join(dir, 'store.db')}`)
  await storage.migrate()
  revocations = await openRevocationCache(storage.revocations, { pollMs: 60_000, now: () => Date.now() })
  caps = openCapabilities({ keys: tokens.keys, issuer: tokens.issuer, publicUrl: PUBLIC, revocations, revocationStore: storage.revocations, now: () => clock.now })
})

afterEach(async () => {
  revocations.close()
  tokens.close()
  await storage.close()
  await rm(dir, { recursive: true, force: true })
})

describe('capability tokens', () => {
  it('mint then authenticate yields the caller with tool limit, causedBy and scalar claims only', async () => {
    const minted = await caps.mint(grant())
    expect(minted.token.startsWith(CAPABILITY_PREFIX)).toBe(true)
    expect(caps.serverUrl('github')).toBe('https://gw.example/mcp/github')
    const caller = await caps.authenticator()(minted.token, 'github')
    expect(caller).toEqual({
      principal: 'gha:1/2',
      ruleName: 'ci',
      claims: { repository: 'acme/app', run_id: 42 },
      toolLimit: ['search_issues'],
      causedBy: '01JREQUEST',
      clientSession: 'sess-1',
    })
  })

  it('an open tool set carries no limit', async () => {
    const caller = await caps.authenticator()((await caps.mint(grant({ tools: undefined }))).token, 'github')
    expect(caller?.toolLimit).toBeUndefined()
  })

  it('carries the exclusion list whole; an empty one is left out; more than the bound refuses the mint', async () => {
    const caller = await caps.authenticator()((await caps.mint(grant({ tools: undefined, toolExclude: ['delete_repo'] }))).token, 'github')
    expect(caller?.toolExclude).toEqual(['delete_repo'])
    const none = await caps.mint(grant({ tools: undefined, toolExclude: [] }))
    expect(JSON.parse(Buffer.from(none.token.split('.')[2] as string, 'base64url').toString())).not.toHaveProperty('xtools')
    await expect(caps.mint(grant({ tools: undefined, toolExclude: Array.from({ length: 513 }, (_, i) => `t${i}`) }))).rejects.toMatchObject({ code: 'GW_MCP_CONNECTOR_UNSUPPORTED' })
  })

  it('is not this authenticator\'s kind without the prefix (a workload or gateway token)', async () => {
    const minted = await caps.mint(grant())
    expect(await caps.authenticator()(minted.token.slice(CAPABILITY_PREFIX.length), 'github')).toBeUndefined()
    expect(await caps.authenticator()('eyJhbGciOiJFUzI1NiJ9.e30.sig', 'github')).toBeUndefined()
  })

  it('another server is refused with 403', async () => {
    const minted = await caps.mint(grant())
    expect(await reason(caps.authenticator()(minted.token, 'jira'))).toBe('GW_MCP_CAPABILITY_WRONG_SERVER')
  })

  it('expired is 401 expired; tampered, garbage and a gateway token under the prefix are 401 invalid', async () => {
    const minted = await caps.mint(grant())
    clock.now += 60_000 + 11_000
    expect(await reason(caps.authenticator()(minted.token, 'github'))).toBe('GW_AUTHN_EXPIRED')
    clock.now -= 71_000
    const [head, body, sig] = minted.token.slice(CAPABILITY_PREFIX.length).split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>
    const forged = Buffer.from(JSON.stringify({ ...claims, tools: ['delete_repo'] })).toString('base64url')
    expect(await reason(caps.authenticator()(`${CAPABILITY_PREFIX}${head}.${forged}.${sig}`, 'github'))).toBe('GW_AUTHN_INVALID')
    expect(await reason(caps.authenticator()(`${CAPABILITY_PREFIX}not-a-jws`, 'github'))).toBe('GW_AUTHN_INVALID')
    const gatewayToken = await tokens.mint({ principal: 'gha:1/2', rule: 'ci', client: 'c', source: { iss: 'x', sub: 'y', exp: Math.floor(clock.now / 1000) + 300 } })
    expect(await reason(caps.authenticator()(`${CAPABILITY_PREFIX}${gatewayToken.token}`, 'github'))).toBe('GW_AUTHN_INVALID')
  })

  it('a token for another public URL (audience) is refused', async () => {
    const elsewhere = openCapabilities({ keys: tokens.keys, issuer: tokens.issuer, publicUrl: 'https://other.example', revocations, revocationStore: storage.revocations, now: () => clock.now })
    const minted = await elsewhere.mint(grant())
    expect(await reason(caps.authenticator()(minted.token, 'github'))).toBe('GW_AUTHN_INVALID')
  })

  it('revoked when its request ended: refused here at once and by another replica after its poll', async () => {
    const minted = await caps.mint(grant())
    const replica = await openRevocationCache(storage.revocations, { pollMs: 60_000 })
    try {
      const other = openCapabilities({ keys: tokens.keys, issuer: tokens.issuer, publicUrl: PUBLIC, revocations: replica, revocationStore: storage.revocations, now: () => clock.now })
      expect(await other.authenticator()(minted.token, 'github')).toBeDefined()
      await caps.revoke(minted)
      expect(await reason(caps.authenticator()(minted.token, 'github'))).toBe('GW_AUTHN_REVOKED')
      await replica.refresh() // what its 500 ms poll does
      expect(await reason(other.authenticator()(minted.token, 'github'))).toBe('GW_AUTHN_REVOKED')
    } finally {
      replica.close()
    }
  })

  it('a revoked principal is refused', async () => {
    const minted = await caps.mint(grant())
    await storage.revocations.revokePrincipal('gha:1/2', new Date(clock.now + 1_000))
    await revocations.refresh()
    expect(await reason(caps.authenticator()(minted.token, 'github'))).toBe('GW_AUTHN_REVOKED')
  })

  it('still verifies after a key rotation while within mcp.capabilityTtl (longer than the gateway token ttl)', async () => {
    const rotating = await openGatewayTokens({ keyFile: join(dir, 'rot.json'), issuer: ISSUER, ttlMs: 300_000, rotateAfterMs: 300_000, now: () => clock.now, retainAtLeastMs: 900_000 })
    try {
      const c = openCapabilities({ keys: rotating.keys, issuer: ISSUER, publicUrl: PUBLIC, revocations, revocationStore: storage.revocations, now: () => clock.now })
      const minted = await c.mint(grant({ expiresAt: clock.now + 890_000 }))
      clock.now += 300_000
      await rotating.mint({ principal: 'p', rule: 'r', client: 'c', source: {} }) // rotates
      // Past the gateway tokens' own retention (ttl + skew after the rotation), within the capability's.
      clock.now += 400_000
      expect(rotating.jwks().keys.length).toBe(2)
      expect(await c.authenticator()(minted.token, 'github')).toBeDefined()
    } finally {
      rotating.close()
    }
  })
})
