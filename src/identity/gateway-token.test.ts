import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { gatewayTokenLifetime, openGatewayTokens, type GatewayTokens, type GatewayTokensOptions } from './gateway-token.js'
import { TokenError } from './types.js'

const ISSUER = 'https://skillgate.example'
const T0 = 1_800_000_000_000
const source = (nowMs: number, overrides: Record<string, unknown> = {}) => ({
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
  jti: 'abc-123',
  exp: Math.floor(nowMs / 1000) + 300,
  repository: 'octo-org/octo-repo',
  run_id: '10685993555',
  sha: 'e75edcc5',
  actor: 'octocat',
  nested: { a: 1 },
  ...overrides,
})

let dir: string
let clock: { now: number }
const opened: GatewayTokens[] = []

async function open(overrides: Partial<GatewayTokensOptions> = {}): Promise<GatewayTokens> {
  const tokens = await openGatewayTokens({ keyFile: join(dir, 'keys', 'gateway.json'), issuer: ISSUER, ttlMs: 300_000, now: () => clock.now, ...overrides })
  opened.push(tokens)
  return tokens
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  if (!TokenError.is(err)) throw new Error(`expected a TokenError, got ${String(err)}`)
  return err
}

/** Signs arbitrary claims with the gateway's current private key (to build near-valid tokens). */
async function signWithRingKey(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const file = JSON.parse(await readFile(join(dir, 'keys', 'gateway.json'), 'utf8')) as { keys: JWK[] }
  const { kty, crv, x, y, d, kid } = file.keys[0] as Required<Pick<JWK, 'kty' | 'crv' | 'x' | 'y' | 'd' | 'kid'>>
  const key = await importJWK({ kty, crv, x, y, d }, 'ES256')
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, ...header }).sign(key)
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skillgate-gwt-'))
  clock = { now: T0 }
})

afterEach(async () => {
  for (const tokens of opened.splice(0)) tokens.close()
  await rm(dir, { recursive: true, force: true })
})

describe('gatewayTokenLifetime (Claude WIF rule)', () => {
  it.each([
    [300, undefined, 300],
    [300, 1000, 300],
    [300, 100, 200],
    [300, 40, 80],
    [300, 10, 60],
    [300, -5, 60],
    [30, 10, 30],
    [3600, 120, 240],
  ])('ttl %i, remaining %s → %i', (ttl, remaining, expected) => {
    expect(gatewayTokenLifetime(ttl, remaining)).toBe(expected)
  })
})

describe('openGatewayTokens', () => {
  it('creates the key file (0600, private JWKS) and publishes only public keys', async () => {
    const tokens = await open()
    const path = join(dir, 'keys', 'gateway.json')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const file = JSON.parse(await readFile(path, 'utf8')) as { keys: Array<Record<string, unknown>> }
    expect(file.keys).toHaveLength(1)
    expect(file.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(typeof file.keys[0]?.d).toBe('string')
    const { keys } = tokens.jwks()
    expect(keys).toHaveLength(1)
    expect(keys[0]).not.toHaveProperty('d')
    expect(keys[0]).not.toHaveProperty('created_at')
    expect(keys[0]?.kid).toBe(file.keys[0]?.kid)
    expect(tokens.audience).toBe(`${ISSUER}/v1`)
  })

  it('reuses an existing key file', async () => {
    const first = await open()
    const kid = first.status().kid
    first.close()
    const second = await open()
    expect(second.status().kid).toBe(kid)
  })

  it('refuses a malformed key file without echoing key material', async () => {
    const path = join(dir, 'keys', 'gateway.json')
    await open()
    await writeFile(path, JSON.stringify({ keys: [{ kty: 'RSA', kid: 'x', d: 'SECRET-D' }] }))
    const err = await openGatewayTokens({ keyFile: path, issuer: ISSUER, ttlMs: 300_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(String(err)).toMatch(/private EC P-256/)
    expect(String(err)).not.toContain('SECRET-D')
  })

  it('validates its options', async () => {
    const keyFile = join(dir, 'k.json')
    await expect(openGatewayTokens({ keyFile, issuer: 'not a url', ttlMs: 300_000 })).rejects.toThrow(/issuer/)
    await expect(openGatewayTokens({ keyFile, issuer: ISSUER, ttlMs: 10 })).rejects.toThrow(/ttlMs/)
    await expect(openGatewayTokens({ keyFile, issuer: ISSUER, ttlMs: 300_000, rotateAfterMs: 1_000 })).rejects.toThrow(/rotateAfterMs/)
  })
})

describe('mint and verify', () => {
  it('mints an at+jwt bound to rule and principal, with act and selected src claims', async () => {
    const tokens = await open()
    const minted = await tokens.mint({ principal: 'gha:162148032/797215326', rule: 'release-notes', client: 'workload-federation', scope: 'claude:messages', source: source(T0) })
    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: tokens.status().kid })
    expect(minted.expiresIn).toBe(300)
    const claims = await tokens.verify(minted.token)
    expect(claims).toEqual(minted.claims)
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: `${ISSUER}/v1`,
      sub: 'gha:162148032/797215326',
      rule: 'release-notes',
      act: { sub: 'workload-federation' },
      scope: 'claude:messages',
      iat: T0 / 1000,
      exp: T0 / 1000 + 300,
    })
    expect(claims.src).toEqual({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      jti: 'abc-123',
      repository: 'octo-org/octo-repo',
      run_id: '10685993555',
      sha: 'e75edcc5',
    })
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{24}$/)
  })

  it('caps the lifetime by the subject token (WIF formula)', async () => {
    const tokens = await open()
    const minted = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(T0, { exp: T0 / 1000 + 40 }) })
    expect(minted.expiresIn).toBe(80)
    expect(minted.claims.exp - minted.claims.iat).toBe(80)
  })

  it('rejects an expired token with reason expired', async () => {
    const tokens = await open()
    const { token } = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(T0) })
    clock.now = T0 + 311_000
    expect((await rejection(tokens.verify(token))).reason).toBe('expired')
  })

  it('rejects tokens of another gateway key (unknown kid) and tampered tokens', async () => {
    const tokens = await open()
    const other = await openGatewayTokens({ keyFile: join(dir, 'other.json'), issuer: ISSUER, ttlMs: 300_000, now: () => clock.now })
    opened.push(other)
    const foreign = await other.mint({ principal: 'p', rule: 'r', client: 'c', source: source(T0) })
    expect((await rejection(tokens.verify(foreign.token))).reason).toBe('unknown_kid')
    const { token } = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(T0) })
    const [h, , s] = token.split('.')
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()), sub: 'admin' })).toString('base64url')
    expect((await rejection(tokens.verify(`${h}.${forged}.${s}`))).reason).toBe('bad_signature')
  })

  it.each([
    ['a workload token typ', { typ: 'JWT' }, {}, 'claims'],
    ['a header jku', { typ: 'at+jwt', jku: 'https://evil.example/jwks' }, {}, 'header_param'],
    ['another issuer', { typ: 'at+jwt' }, { iss: 'https://token.actions.githubusercontent.com' }, 'untrusted_issuer'],
    ['an external audience', { typ: 'at+jwt' }, { aud: 'https://skillgate.example' }, 'claims'],
    ['a lifetime over the ttl', { typ: 'at+jwt' }, { exp: T0 / 1000 + 3600 }, 'lifetime'],
    ['a missing rule', { typ: 'at+jwt' }, { rule: undefined }, 'claims'],
    ['a non-object act', { typ: 'at+jwt' }, { act: 'client' }, 'claims'],
  ])('rejects %s', async (_name, header, overrides, reason) => {
    const tokens = await open()
    const payload: Record<string, unknown> = {
      iss: ISSUER, aud: `${ISSUER}/v1`, sub: 'p', rule: 'r', act: { sub: 'c' }, src: {}, jti: 'j1', iat: T0 / 1000, exp: T0 / 1000 + 60, ...overrides,
    }
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
    const token = await signWithRingKey(header, payload)
    expect((await rejection(tokens.verify(token))).reason).toBe(reason)
  })

  it('rejects duplicate members and non-canonical encodings before the signature', async () => {
    const tokens = await open()
    const { token } = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(T0) })
    const [h, p, s] = token.split('.') as [string, string, string]
    const dupHeader = Buffer.from(`{"alg":"ES256","typ":"at+jwt","kid":"x","kid":"y"}`).toString('base64url')
    expect((await rejection(tokens.verify(`${dupHeader}.${p}.${s}`))).reason).toBe('duplicate_member')
    expect((await rejection(tokens.verify(`${h}=.${p}.${s}`))).reason).toBe('malformed')
    expect((await rejection(tokens.verify(`${h}.${p}`))).reason).toBe('malformed')
  })
})

describe('key rotation', () => {
  it('rotates after rotateAfterMs, keeps publishing the old key until its tokens expired', async () => {
    const tokens = await open({ rotateAfterMs: 3_600_000 })
    const firstKid = tokens.status().kid
    const old = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(T0, { exp: undefined }) })
    clock.now = T0 + 3_600_000 - 200_000
    const beforeRotation = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now, { exp: undefined }) })
    clock.now = T0 + 3_600_000
    const fresh = await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now, { exp: undefined }) })
    const secondKid = tokens.status().kid
    expect(secondKid).not.toBe(firstKid)
    expect(decodeProtectedHeader(fresh.token).kid).toBe(secondKid)
    expect(tokens.jwks().keys.map((key) => key.kid)).toEqual([secondKid, firstKid])
    // A token signed with the previous key shortly before the rotation still verifies.
    await expect(tokens.verify(beforeRotation.token)).resolves.toMatchObject({ sub: 'p' })
    await expect(rejection(tokens.verify(old.token))).resolves.toMatchObject({ reason: 'expired' })
    // ttl (300 s) + skew (10 s) after the rotation the old key is no longer published.
    clock.now = T0 + 3_600_000 + 310_001
    expect(tokens.jwks().keys.map((key) => key.kid)).toEqual([secondKid])
  })

  it('a sibling process sees a rotation: unknown kid triggers a reload', async () => {
    const a = await open({ rotateAfterMs: 3_600_000 })
    const b = await open({ rotateAfterMs: 3_600_000 })
    expect(b.status().kid).toBe(a.status().kid)
    clock.now = T0 + 3_600_000
    const minted = await a.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now) })
    await expect(b.verify(minted.token)).resolves.toMatchObject({ sub: 'p' })
    expect(b.jwks().keys.map((key) => key.kid)).toEqual(a.jwks().keys.map((key) => key.kid))
  })

  it('two processes rotating at once agree on one new key (lock file)', async () => {
    const a = await open({ rotateAfterMs: 3_600_000 })
    const b = await open({ rotateAfterMs: 3_600_000 })
    clock.now = T0 + 3_600_000
    const [ma, mb] = await Promise.all([
      a.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now) }),
      b.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now) }),
    ])
    expect(decodeProtectedHeader(ma.token).kid).toBe(decodeProtectedHeader(mb.token).kid)
    const file = JSON.parse(await readFile(join(dir, 'keys', 'gateway.json'), 'utf8')) as { keys: JWK[] }
    expect(file.keys).toHaveLength(2)
  })

  it('breaks a stale lock left by a crashed process', async () => {
    const tokens = await open({ rotateAfterMs: 3_600_000 })
    const firstKid = tokens.status().kid
    const lock = join(dir, 'keys', 'gateway.json.lock')
    await writeFile(lock, '')
    const old = new Date(Date.now() - 120_000)
    await utimes(lock, old, old)
    clock.now = T0 + 3_600_000
    await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now) })
    expect(tokens.status().kid).not.toBe(firstKid)
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
