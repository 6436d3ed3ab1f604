/**
 * Gateway tokens are recognised by a marker only the gateway verifier sets (issue #12 item 4), and a
 * gateway token is authorized only over the source claims kept at mint time (issue #13 item 1): the
 * `/v1` stages fail closed when those cannot be read. Revocation matches hashed long values (item 3).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors/gateway-error.js'
import { isGatewayToken, routeGatewayTokens } from '../../src/identity/gateway-token-verifier.js'
import { openGatewayTokens, type GatewayTokens } from '../../src/identity/gateway-token.js'
import { createTokenVerifier, type TokenVerifier, type VerifiedToken } from '../../src/identity/index.js'
import { openRevocationCache, type RevocationCache } from '../../src/identity/revocation-cache.js'
import { sourceValue } from '../../src/identity/source-value.js'
import { cacheVerifications } from '../../src/identity/verified-cache.js'
import type { RequestContext } from '../../src/pipeline/context.js'
import { extractRequestFacts } from '../../src/policy/request-facts.js'
import { compilePolicy } from '../../src/policy/compile.js'
import type { IssuerConfig } from '../../src/config/schema.js'
import { authenticate } from '../../src/stages/authenticate.js'
import { authorize } from '../../src/stages/authorize.js'
import { revocationTokenKey, type RevocationStore } from '../../src/storage/ports.js'
import type { MintedTokenStore } from '../../src/storage/ports-minted.js'
import { generateIssuerKeys, type IssuerKeys } from '../fixtures/issuers/keys.js'
import { mintToken } from '../fixtures/issuers/mint.js'
import { AUDIENCE } from './helpers.js'

let dir: string
let gatewayTokens: GatewayTokens
let keys: IssuerKeys
let verifier: TokenVerifier

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skillgate-marker-'))
  gatewayTokens = await openGatewayTokens({ keyFile: join(dir, 'key.json'), issuer: 'https://gw.example', ttlMs: 300_000 })
  keys = await generateIssuerKeys('https://idp.example', 'm')
  // An external issuer an operator named "skillgate" (config refuses that id; the verifier must not care).
  const workload = createTokenVerifier([{
    id: 'skillgate', issuer: keys.issuer, jwks: { kind: 'keys', keys: keys.jwks().keys }, audience: AUDIENCE,
    algorithms: ['RS256'], maxLifetimeMs: 900_000, clockSkewMs: 30_000, requiredClaims: [],
  }])
  verifier = cacheVerifications(routeGatewayTokens(workload, gatewayTokens))
})
afterAll(async () => {
  verifier.close()
  gatewayTokens.close()
  await rm(dir, { recursive: true, force: true })
})

const rules = compilePolicy([{
  id: 'release-notes', issuer: 'github', effect: 'allow', match: { subject: 'repo:acme/app:ref:refs/heads/main' },
  principal: 'gha:{repository_id}', allow: { endpoints: ['models'] },
}], {})
const githubSource = { issuerId: 'github', claims: { iss: 'https://token.actions.example', sub: 'repo:acme/app:ref:refs/heads/main', repository_id: '42', jti: 'j1' } }

async function gatewayIdentity(): Promise<VerifiedToken> {
  const { token } = await gatewayTokens.mint({ principal: 'gha:42', rule: 'release-notes', client: 'token-exchange', source: { ...githubSource.claims, exp: Math.floor(Date.now() / 1000) + 300 } })
  return verifier.verify(token)
}

/** No request here reuses a container; a lookup would be a bug. */
const noOwners = { owners: async () => { throw new Error('unexpected ownership lookup') } }

function store(get: MintedTokenStore['get']): MintedTokenStore {
  return { put: async () => undefined, get }
}

async function revocations(tokens: ReadonlyMap<string, number> = new Map()): Promise<RevocationCache> {
  const snapshot = { version: 1, principals: new Map(), tokens, issuers: new Set<string>() }
  return openRevocationCache({ snapshot: async () => snapshot, version: async () => 1 } as unknown as RevocationStore, { pollMs: 60_000 })
}

async function runAuthorize(identity: VerifiedToken, minted: MintedTokenStore, cache?: RevocationCache): Promise<string> {
  const list = cache ?? (await revocations())
  // As read-body leaves it: a models request has no body to inspect, so its facts are empty.
  const ctx = { identity, headers: {}, endpoint: { name: 'models' }, json: undefined, facts: extractRequestFacts('models', undefined) } as unknown as RequestContext
  try {
    await authorize(rules, noOwners, list, minted)(ctx, async () => undefined)
    return `allowed ${ctx.decision?.principal}`
  } catch (error) {
    if (error instanceof GatewayError) return error.code
    throw error
  } finally {
    if (cache === undefined) list.close()
  }
}

describe('the gateway-token marker', () => {
  it('is set on tokens the gateway minted, also when served from the verification cache', async () => {
    const { token } = await gatewayTokens.mint({ principal: 'p', rule: 'r', client: 'token-exchange', source: { iss: 'x', sub: 'y', exp: Math.floor(Date.now() / 1000) + 300 } })
    expect(isGatewayToken(await verifier.verify(token))).toBe(true)
    expect(isGatewayToken(await verifier.verify(token))).toBe(true)
  })

  it('is never set on a workload token, even from an issuer configured with the id "skillgate"', async () => {
    const forged = mintToken(keys, { sub: 'gha:42', rule: 'release-notes' }, { audience: AUDIENCE })
    const identity = await verifier.verify(forged)
    expect(identity.issuerId).toBe('skillgate')
    expect(isGatewayToken(identity)).toBe(false)
    expect(isGatewayToken({ ...identity })).toBe(false)
    // Its `rule` claim binds nothing: policy sees an identity of issuer "skillgate" with no rule.
    expect(await runAuthorize(identity, store(async () => githubSource))).toBe('GW_AUTHZ_NO_RULE')
  })
})

describe('authorizing a gateway token over its stored source', () => {
  it('allows when the source is found and still matches', async () => {
    expect(await runAuthorize(await gatewayIdentity(), store(async () => githubSource))).toBe('allowed gha:42')
  })

  it('refuses with 401 when the source is unknown and 503 when the store fails', async () => {
    expect(await runAuthorize(await gatewayIdentity(), store(async () => undefined))).toBe('GW_AUTHN_INVALID')
    expect(await runAuthorize(await gatewayIdentity(), store(async () => {
      throw new Error('down')
    }))).toBe('GW_TOKEN_SOURCES_UNAVAILABLE')
  })

  it('refuses when the source token itself is revoked by its full iss and jti', async () => {
    const cache = await revocations(new Map([[revocationTokenKey(githubSource.claims.iss, 'j1'), Date.now() + 60_000]]))
    try {
      expect(await runAuthorize(await gatewayIdentity(), store(async () => githubSource), cache)).toBe('GW_AUTHN_REVOKED')
    } finally {
      cache.close()
    }
  })
})

describe('revocation of long iss and jti values', () => {
  it('refuses a gateway token at authentication when its source long jti is revoked', async () => {
    const iss = `https://idp.example/${'i'.repeat(300)}`
    const jti = 'j'.repeat(400)
    const { token } = await gatewayTokens.mint({ principal: 'p', rule: 'r', client: 'token-exchange', source: { iss, sub: 's', jti, exp: Math.floor(Date.now() / 1000) + 300 } })
    const issuers = [{ id: 'long', issuer: iss, direct: false }] as unknown as IssuerConfig[]
    const run = async (cache: RevocationCache) => {
      const ctx = { headers: { authorization: `Bearer ${token}` } } as unknown as RequestContext
      try {
        await authenticate(verifier, issuers, cache)(ctx, async () => undefined)
        return 'ok'
      } catch (error) {
        if (error instanceof GatewayError) return error.code
        throw error
      } finally {
        cache.close()
      }
    }
    expect(await run(await revocations())).toBe('ok')
    expect(await run(await revocations(new Map([[revocationTokenKey(iss, jti), Date.now() + 60_000]])))).toBe('GW_AUTHN_REVOKED')
    expect(await run(await revocations(new Map([[revocationTokenKey(iss, `${jti}-other`), Date.now() + 60_000]])))).toBe('ok')
  })


  it('matches the hashed form a gateway token carries in src', async () => {
    const iss = `https://idp.example/${'i'.repeat(300)}`
    const jti = 'j'.repeat(400)
    const cache = await revocations(new Map([[revocationTokenKey(iss, jti), Date.now() + 60_000]]))
    try {
      expect(cache.checkToken('github', iss, jti)).toBe('token-revoked')
      expect(cache.checkToken('github', sourceValue(iss), sourceValue(jti))).toBe('token-revoked')
      expect(cache.checkToken('github', sourceValue(iss), sourceValue(`${jti}x`))).toBe('ok')
    } finally {
      cache.close()
    }
  })
})
