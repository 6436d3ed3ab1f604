/**
 * The strict verifier of workload-identity.md §2.2, every step in order. Thin glue, like jose's own
 * `src/jwt/verify.ts`: each step lives in its own module and throws a `TokenError` with a stable
 * reason. Step 14 (revocation, replay) needs storage and lives outside this pure module.
 */
import { jwtVerify, type JWTVerifyOptions } from 'jose'
import { checkClaims } from './claims-checks.js'
import { DEFAULT_MAX_TOKEN_BYTES, MAX_TOKEN_BYTES_LIMIT, splitCompact } from './compact.js'
import { checkHeader, type TokenHeader } from './header.js'
import { buildIssuerRegistry, type IssuerEntry } from './issuer-registry.js'
import { toTokenError } from './jose-errors.js'
import type { KeySetTiming } from './key-set.js'
import { deepFreeze, parseStrictJsonObject, type JsonObject } from './strict-json.js'
import {
  TokenError,
  type IssuerHealth,
  type IssuerSpec,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
  type VerifyOptions,
} from './types.js'

const DEFAULTS: KeySetTiming = { fetchTimeoutMs: 3_000, cooldownMs: 30_000, cacheMaxAgeMs: 600_000 }

/**
 * Builds a verifier over a fixed set of issuers; throws at construction on misconfiguration.
 * @example
 * const verifier = createTokenVerifier([{ id: 'github', issuer: 'https://token.actions.githubusercontent.com',
 *   jwks: { kind: 'discovery' }, audience: 'https://skillgate.example', algorithms: ['RS256'],
 *   maxLifetimeMs: 900_000, maxAgeMs: 600_000, clockSkewMs: 30_000, requiredClaims: ['jti'] }])
 * await verifier.warmUp()
 * const { issuerId, claims } = await verifier.verify(token)
 */
export function createTokenVerifier(issuers: readonly IssuerSpec[], options: TokenVerifierOptions = {}): TokenVerifier {
  const timing = resolveTiming(options)
  const now = options.now ?? Date.now
  const registry = buildIssuerRegistry(issuers, timing)
  return {
    verify: (token, verifyOptions = {}) => verifyToken(token, verifyOptions, registry, now),
    health: () => [...registry.values()].map(toHealth),
    async warmUp() {
      await Promise.allSettled([...registry.values()].map((entry) => entry.keySet.warmUp()))
    },
    close() {
      for (const entry of registry.values()) entry.keySet.close()
    },
  }
}

async function verifyToken(
  token: string,
  options: VerifyOptions,
  registry: ReadonlyMap<string, IssuerEntry>,
  now: () => number,
): Promise<VerifiedToken> {
  const nowMs = now()
  // Steps 1–3: size, shape, canonical base64url.
  const parts = splitCompact(token, resolveMaxTokenBytes(options.maxTokenBytes))
  // Step 4: strict UTF-8 and JSON, no duplicate members, for both header and payload.
  const rawHeader = parseStrictJsonObject(parts.headerBytes, 'header')
  const claims = parseStrictJsonObject(parts.payloadBytes, 'payload')
  // Steps 5–6: header allow-list and kid.
  const header = checkHeader(rawHeader)
  // Step 7: route by the exact (still unverified) iss.
  const entry = route(claims, registry)
  const issuerId = entry.spec.id
  // Step 8: the issuer's algorithms; the key decides, never the header alone (RFC 8725 §3.1).
  if (!entry.algorithms.includes(header.alg)) throw new TokenError('alg', { issuerId, detail: 'alg not allowed for issuer' })
  // Step 9: signature and registered claims, with this issuer's own key set only.
  const requireJti = options.requireJti === true
  try {
    await jwtVerify(token, entry.keySet.getKey, joseOptions(entry, nowMs, requireJti))
  } catch (err) {
    throw toTokenError(err, issuerId)
  }
  // Steps 10–13: finite NumericDates, lifetime, single audience, identifier types.
  const { maxLifetimeMs, clockSkewMs } = entry.spec
  checkClaims(claims, { issuerId, maxLifetimeMs, clockSkewMs, requireJti }, nowMs)
  return { issuerId, claims: deepFreeze(claims), header: Object.freeze(publicHeader(header)) }
}

function route(claims: JsonObject, registry: ReadonlyMap<string, IssuerEntry>): IssuerEntry {
  const { iss } = claims
  // Exact string match: no case folding, no trailing-slash normalisation (catalogue #27).
  const entry = typeof iss === 'string' ? registry.get(iss) : undefined
  if (entry === undefined) throw new TokenError('untrusted_issuer', { claim: 'iss', detail: 'no issuer configured for iss' })
  return entry
}

function joseOptions(entry: IssuerEntry, nowMs: number, requireJti: boolean): JWTVerifyOptions {
  const { spec } = entry
  return {
    issuer: spec.issuer,
    audience: spec.audience,
    algorithms: [...entry.algorithms],
    clockTolerance: spec.clockSkewMs / 1000,
    currentDate: new Date(nowMs),
    requiredClaims: requireJti ? [...entry.requiredClaims, 'jti'] : [...entry.requiredClaims],
    ...(spec.typ === undefined ? {} : { typ: spec.typ }),
    ...(spec.maxAgeMs === undefined ? {} : { maxTokenAge: spec.maxAgeMs / 1000 }),
  }
}

function publicHeader(header: TokenHeader): { alg: string; kid?: string; typ?: string } {
  return header.typ === undefined ? { alg: header.alg, kid: header.kid } : { alg: header.alg, kid: header.kid, typ: header.typ }
}

function toHealth(entry: IssuerEntry): IssuerHealth {
  const status = entry.keySet.status()
  const health: IssuerHealth = { id: entry.spec.id, issuer: entry.spec.issuer, state: status.state }
  if (status.detail !== undefined) health.detail = status.detail
  if (status.keysFetchedAt !== undefined) health.keysFetchedAt = status.keysFetchedAt
  return health
}

function resolveMaxTokenBytes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_TOKEN_BYTES
  if (!Number.isInteger(value) || value <= 0 || value > MAX_TOKEN_BYTES_LIMIT) {
    throw new TypeError(`maxTokenBytes must be an integer between 1 and ${MAX_TOKEN_BYTES_LIMIT}`)
  }
  return value
}

function resolveTiming(options: TokenVerifierOptions): KeySetTiming {
  const { fetchTimeoutMs = DEFAULTS.fetchTimeoutMs, cooldownMs = DEFAULTS.cooldownMs, cacheMaxAgeMs = DEFAULTS.cacheMaxAgeMs } = options
  if (!Number.isInteger(fetchTimeoutMs) || fetchTimeoutMs <= 0) throw new TypeError('fetchTimeoutMs must be a positive integer')
  if (!Number.isFinite(cooldownMs) || cooldownMs < 0) throw new TypeError('cooldownMs must be a non-negative number')
  if (Number.isNaN(cacheMaxAgeMs) || cacheMaxAgeMs < 0) throw new TypeError('cacheMaxAgeMs must be a non-negative number')
  return { fetchTimeoutMs, cooldownMs, cacheMaxAgeMs }
}
