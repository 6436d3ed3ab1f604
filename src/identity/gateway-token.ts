/**
 * Gateway-minted access tokens (workload-identity.md §7.3): ES256 JWTs with `typ: at+jwt` and a
 * `kid`, bound to one rule and one principal, published at `/.well-known/jwks.json`. The audience
 * (`<issuer>/v1`) and `typ` differ from every external issuer's, so a gateway token and a workload
 * token can never validate as each other (RFC 8725 §3.12). Verification reuses the strict steps of
 * the workload verifier (size, canonical compact form, duplicate-free JSON, header allow-list) before
 * jose checks the signature with the local keys only.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { MAX_ACT_DEPTH, readActChain, type ActClaim } from './act-chain.js'
import { checkClaims } from './claims-checks.js'
import { DEFAULT_MAX_TOKEN_BYTES, splitCompact } from './compact.js'
import { createVerifiedTokenCache, type VerifiedTokenCache } from './gateway-token-cache.js'
import { createKeyRing, type KeyRing, type KeyRingStatus } from './gateway-token-keys.js'
import { createStoreKeyRing, type StoredKeysOptions } from './gateway-token-store-keys.js'
import { checkHeader } from './header.js'
import { toTokenError } from './jose-errors.js'
import { MAX_SOURCE_VALUE_CHARS, sourceValue } from './source-value.js'
import { parseStrictJsonObject, type JsonObject } from './strict-json.js'
import { TokenError } from './types.js'

/** `issuerId` on every `TokenError` about a gateway token. */
export const GATEWAY_ISSUER_ID = 'skillgate'
export const GATEWAY_TOKEN_TYP = 'at+jwt'
/** Replicas share one clock source in practice; a small tolerance covers NTP drift only. */
export const GATEWAY_TOKEN_CLOCK_SKEW_MS = 10_000
const CLOCK_SKEW_MS = GATEWAY_TOKEN_CLOCK_SKEW_MS
const DEFAULT_ROTATE_AFTER_MS = 24 * 60 * 60_000
/** Source claims copied into `src` for audit when they are short scalars (GitHub, GitLab, RFC 9068). */
export const DEFAULT_SOURCE_CLAIMS: readonly string[] = [
  'repository', 'repository_id', 'repository_owner_id', 'run_id', 'run_attempt', 'sha', 'ref', 'workflow',
  'job_workflow_ref', 'event_name', 'environment', 'project_id', 'project_path', 'pipeline_id', 'job_id',
  'namespace_id', 'client_id',
]

export interface GatewayTokensOptions {
  /** Private JWKS file; created (0600, write-then-rename) when missing. Exactly one of `keyFile` and `keyStore`. */
  readonly keyFile?: string
  readonly keyStore?: StoredKeysOptions
  /** Gateway issuer URL, e.g. `https://skillgate.example`; the audience is `<issuer>/v1`. */
  readonly issuer: string
  /** Upper bound of a token's lifetime (`gatewayTokens.ttl`). */
  readonly ttlMs: number
  /** A new signing key after this long; default 24 h. */
  readonly rotateAfterMs?: number
  readonly now?: () => number
  /** Source claims copied into `src` besides `iss`, `sub` and `jti`; default `DEFAULT_SOURCE_CLAIMS`. */
  readonly sourceClaims?: readonly string[]
  /**
   * Other tokens signed with these keys (MCP capability tokens, `mcp.capabilityTtl`) may live longer
   * than `ttlMs`: a retired key stays published until the longest of them has expired too.
   */
  readonly retainAtLeastMs?: number
}

/** The key ring for other gateway-signed tokens (src/mcp/capability.ts): same keys, own `typ` and audience. */
export interface GatewaySigningKeys {
  /** The current signing key (rotated when due). */
  signingKey(): Promise<{ readonly kid: string; readonly privateKey: CryptoKey }>
  /** The public key of `kid`, re-reading the ring once when it is unknown (a sibling rotated). */
  verificationKey(kid: string): Promise<CryptoKey | undefined>
}

export interface MintInput {
  /** The mapped principal (ids, not names): becomes `sub`. */
  readonly principal: string
  readonly rule: string
  /** The exchanging client (RFC 8693 §4.1 `act.sub`), e.g. `workload-federation`. */
  readonly client: string
  /** The source token's own delegation chain (`readActChain`), nested under `act`; at most `MAX_ACT_DEPTH - 1` levels. */
  readonly sourceAct?: ActClaim
  /** Space-separated granted scopes; omitted when undefined. */
  readonly scope?: string
  /** The verified subject (workload) claims: `src` is selected from them and `exp` bounds the lifetime. */
  readonly source: Readonly<Record<string, unknown>>
}

export interface GatewayTokenClaims {
  readonly iss: string
  readonly aud: string
  readonly sub: string
  readonly rule: string
  /** The exchanging client, with the source's own `act` chain nested under it (RFC 8693 §4.1). */
  readonly act: ActClaim
  readonly scope?: string
  readonly src: Readonly<Record<string, string | number>>
  readonly jti: string
  readonly iat: number
  readonly exp: number
}

export interface MintedGatewayToken {
  readonly token: string
  readonly claims: GatewayTokenClaims
  /** `exp - iat` in seconds: the `expires_in` of the token response. */
  readonly expiresIn: number
}

export type GatewayTokensStatus = KeyRingStatus
export type { StoredKeysOptions } from './gateway-token-store-keys.js'

export interface GatewayTokens {
  readonly issuer: string
  readonly audience: string
  mint(input: MintInput): Promise<MintedGatewayToken>
  /** Strict verification; throws `TokenError` (reason + claim name only, never the token). */
  verify(token: string): Promise<GatewayTokenClaims>
  /** Public keys for `/.well-known/jwks.json`: the current key and every key whose tokens may still be valid. */
  jwks(): { keys: JWK[] }
  /** The same keys for other gateway-signed tokens; shared by every replica like the tokens' own. */
  readonly keys: GatewaySigningKeys
  status(): GatewayTokensStatus
  close(): void
}

/**
 * Lifetime in seconds, Claude WIF's rule (workload-identity.md §7.2): `max(60, min(ttl, 2 × remaining))`,
 * never above `ttl`. The floor keeps tokens above the SDK's refresh thresholds (refresh below 120 s,
 * blocking below 30 s); tokens shorter than ~150 s would make it re-exchange continuously.
 * @example gatewayTokenLifetime(300, 40) // 80
 */
export function gatewayTokenLifetime(ttlSeconds: number, remainingSeconds: number | undefined): number {
  const ttl = Math.max(1, Math.floor(ttlSeconds))
  if (remainingSeconds === undefined || !Number.isFinite(remainingSeconds)) return ttl
  return Math.max(Math.min(60, ttl), Math.min(ttl, Math.floor(2 * remainingSeconds)))
}

/**
 * Opens (or creates) the signing key file and returns the minting/verifying facade.
 * @example
 * const tokens = await openGatewayTokens({ keyFile: './data/gateway-signing-key.json',
 *   issuer: 'https://skillgate.example', ttlMs: 300_000 })
 * const { token, expiresIn } = await tokens.mint({ principal, rule, client: 'workload-federation', source: claims })
 */
export async function openGatewayTokens(options: GatewayTokensOptions): Promise<GatewayTokens> {
  validateOptions(options)
  const now = options.now ?? Date.now
  const ring = await openKeyRing(options, now)
  const minter: Minter = {
    issuer: options.issuer,
    audience: `${options.issuer.replace(/\/+$/, '')}/v1`,
    ttlMs: options.ttlMs,
    sourceClaims: options.sourceClaims ?? DEFAULT_SOURCE_CLAIMS,
    now,
    ring,
    verified: createVerifiedTokenCache(now),
  }
  return {
    issuer: minter.issuer,
    audience: minter.audience,
    mint: (input) => mintToken(minter, input),
    verify: (token) => verifyToken(minter, token),
    jwks: () => ({ keys: ring.publicKeys() }),
    keys: { signingKey: () => ring.signingKey(), verificationKey: (kid) => ring.verificationKey(kid) },
    status: () => ring.status(),
    close: () => ring.close(),
  }
}

function openKeyRing(options: GatewayTokensOptions, now: () => number): Promise<KeyRing> {
  const schedule = {
    rotateAfterMs: options.rotateAfterMs ?? DEFAULT_ROTATE_AFTER_MS,
    // A retired key stays published until every token it signed has expired (+ skew).
    retainMs: Math.max(options.ttlMs, options.retainAtLeastMs ?? 0) + CLOCK_SKEW_MS,
    now,
  }
  if (options.keyStore !== undefined) {
    return createStoreKeyRing({ ...options.keyStore, ...schedule })
  }
  return createKeyRing({ path: options.keyFile as string, ...schedule })
}

interface Minter {
  readonly issuer: string
  readonly audience: string
  readonly ttlMs: number
  readonly sourceClaims: readonly string[]
  readonly now: () => number
  readonly ring: KeyRing
  readonly verified: VerifiedTokenCache<GatewayTokenClaims>
}

async function mintToken(minter: Minter, input: MintInput): Promise<MintedGatewayToken> {
  const key = await minter.ring.signingKey()
  const iat = Math.floor(minter.now() / 1000)
  const subjectExp = input.source.exp
  const expiresIn = gatewayTokenLifetime(minter.ttlMs / 1000, typeof subjectExp === 'number' ? subjectExp - iat : undefined)
  const claims: GatewayTokenClaims = {
    iss: minter.issuer,
    aud: minter.audience,
    sub: input.principal,
    rule: input.rule,
    act: { sub: input.client, ...(input.sourceAct === undefined ? {} : { act: input.sourceAct }) },
    ...(input.scope === undefined ? {} : { scope: input.scope }),
    src: selectSource(input.source, minter.sourceClaims),
    jti: randomBytes(18).toString('base64url'),
    iat,
    exp: iat + expiresIn,
  }
  const token = await new SignJWT({ ...claims } as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', typ: GATEWAY_TOKEN_TYP, kid: key.kid })
    .sign(key.privateKey)
  return { token, claims, expiresIn }
}

/** Strict steps 1–6 of the workload verifier, then jose with the local keys only, then steps 10–13. */
async function verifyToken(minter: Minter, token: string): Promise<GatewayTokenClaims> {
  const known = minter.verified.get(token, minter.ring.knows)
  if (known !== undefined) return known
  const nowMs = minter.now()
  const parts = splitCompact(token, DEFAULT_MAX_TOKEN_BYTES)
  const header = checkHeader(parseStrictJsonObject(parts.headerBytes, 'header'))
  const claims = parseStrictJsonObject(parts.payloadBytes, 'payload')
  const issuerId = GATEWAY_ISSUER_ID
  if (header.alg !== 'ES256') throw new TokenError('alg', { issuerId, detail: 'gateway tokens are ES256' })
  if (claims.iss !== minter.issuer) throw new TokenError('untrusted_issuer', { claim: 'iss', issuerId, detail: 'not the gateway issuer' })
  const getKey = async (): Promise<CryptoKey> => {
    const key = await minter.ring.verificationKey(header.kid)
    if (key === undefined) throw new TokenError('unknown_kid', { issuerId, detail: 'no gateway key with this kid' })
    return key
  }
  try {
    await jwtVerify(token, getKey, {
      issuer: minter.issuer,
      audience: minter.audience,
      algorithms: ['ES256'],
      typ: GATEWAY_TOKEN_TYP,
      currentDate: new Date(nowMs),
      clockTolerance: CLOCK_SKEW_MS / 1000,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    })
  } catch (err) {
    throw toTokenError(err, issuerId)
  }
  checkClaims(claims, { issuerId, maxLifetimeMs: minter.ttlMs, clockSkewMs: CLOCK_SKEW_MS, requireJti: true }, nowMs)
  const verified = toGatewayClaims(claims)
  minter.verified.set(token, header.kid, verified, verified.exp * 1000)
  return verified
}

function validateOptions(options: GatewayTokensOptions): void {
  const file = options.keyFile
  if ((file === undefined) === (options.keyStore === undefined)) throw new TypeError('exactly one of keyFile and keyStore is needed')
  if (file !== undefined && (typeof file !== 'string' || file === '')) throw new TypeError('keyFile must be a non-empty path')
  let url: URL
  try {
    url = new URL(options.issuer)
  } catch {
    throw new TypeError('issuer must be an absolute URL')
  }
  if (url.search !== '' || url.hash !== '') throw new TypeError('issuer must not have a query or fragment')
  if (!Number.isInteger(options.ttlMs) || options.ttlMs < 1_000) throw new TypeError('ttlMs must be an integer of at least 1000')
  const rotate = options.rotateAfterMs
  if (rotate !== undefined && (!Number.isFinite(rotate) || rotate < options.ttlMs)) {
    throw new TypeError('rotateAfterMs must be at least ttlMs')
  }
}

/**
 * `src`: the subject's `iss`, `sub`, `jti` and a few short audit claims; never nested objects. `iss` and
 * `jti` are always carried (hashed when long) because revocation by token or issuer looks them up.
 */
function selectSource(source: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const name of ['iss', 'sub', 'jti', ...names]) {
    if (!Object.hasOwn(source, name) || Object.hasOwn(out, name)) continue
    const value = source[name]
    if ((name === 'iss' || name === 'jti') && typeof value === 'string') out[name] = sourceValue(value)
    else if (typeof value === 'string' && value.length <= MAX_SOURCE_VALUE_CHARS) out[name] = value
    else if (typeof value === 'number' && Number.isFinite(value)) out[name] = value
  }
  return out
}

function claimError(claim: string): TokenError {
  return new TokenError('claims', { claim, issuerId: GATEWAY_ISSUER_ID, detail: 'gateway token claim has the wrong type' })
}

/** Type-checks the gateway-specific claims (jose and `checkClaims` covered the registered ones). */
function toGatewayClaims(claims: JsonObject): GatewayTokenClaims {
  const { iss, aud, sub, rule, act, scope, src, jti, iat, exp } = claims
  if (typeof rule !== 'string' || rule === '') throw claimError('rule')
  const actor = readActChain(act, MAX_ACT_DEPTH)
  if (actor === undefined || actor === 'invalid') throw claimError('act')
  if (scope !== undefined && typeof scope !== 'string') throw claimError('scope')
  if (typeof src !== 'object' || src === null || Array.isArray(src)) throw claimError('src')
  const source: Record<string, string | number> = {}
  for (const [name, value] of Object.entries(src)) {
    if (typeof value !== 'string' && typeof value !== 'number') throw claimError('src')
    source[name] = value
  }
  return {
    iss: iss as string,
    aud: typeof aud === 'string' ? aud : String((aud as string[])[0]),
    sub: sub as string,
    rule,
    act: actor,
    ...(scope === undefined ? {} : { scope }),
    src: source,
    jti: jti as string,
    iat: iat as number,
    exp: exp as number,
  }
}
