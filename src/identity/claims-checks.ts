/**
 * Steps 10–13 of the strict verifier (workload-identity.md §2.2): what `jose.jwtVerify` does not do
 * (§2.3). They run after the signature is verified, on the duplicate-free claims of step 4.
 */
import type { JsonObject } from './strict-json.js'
import { TokenError } from './types.js'

/** 9999-12-31T23:59:59Z: a sane upper bound for a NumericDate (RFC 7519 §2). */
const MAX_NUMERIC_DATE = 253_402_300_799

export interface ClaimRules {
  readonly issuerId: string
  readonly maxLifetimeMs: number
  readonly clockSkewMs: number
  readonly requireJti: boolean
}

/** Runs steps 10–13; throws a `TokenError` naming the claim (never its value). */
export function checkClaims(claims: JsonObject, rules: ClaimRules, nowMs: number): void {
  const { issuerId } = rules
  const exp = numericDate(claims, 'exp', true, issuerId)
  const iat = numericDate(claims, 'iat', true, issuerId)
  numericDate(claims, 'nbf', false, issuerId)

  // jose rejects a future `iat` only together with `maxTokenAge`; catalogue #21 wants it always.
  if (iat * 1000 > nowMs + rules.clockSkewMs) {
    throw new TokenError('claims', { claim: 'iat', issuerId, detail: 'iat in the future' })
  }
  // Step 11. Total lifetime (Claude WIF `max_jwt_lifetime_seconds`); no jose option exists.
  if (!(exp > iat) || (exp - iat) * 1000 > rules.maxLifetimeMs) {
    throw new TokenError('lifetime', { claim: 'exp', issuerId, detail: 'exp - iat out of range' })
  }
  checkSingleAudience(claims, issuerId)
  checkIdentifiers(claims, rules)
}

/** Step 10: `1e400` parses to Infinity and would never expire (catalogue #24). */
function numericDate(claims: JsonObject, claim: string, required: boolean, issuerId: string): number {
  const value = claims[claim]
  if (value === undefined && !required) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
    throw new TokenError('claims', { claim, issuerId, detail: 'NumericDate not finite or out of range' })
  }
  return value
}

/** Step 12: jose's `audience` is any-of; a token meant for several parties is refused (#29). */
function checkSingleAudience(claims: JsonObject, issuerId: string): void {
  const { aud } = claims
  const single = typeof aud === 'string' || (Array.isArray(aud) && aud.length === 1 && typeof aud[0] === 'string')
  if (!single) throw new TokenError('claims', { claim: 'aud', issuerId, detail: 'audience not single-valued' })
}

/** Step 13: identifier types (catalogue #30); jose only checks that they are present. */
function checkIdentifiers(claims: JsonObject, rules: ClaimRules): void {
  const { issuerId } = rules
  const { sub, jti, iss } = claims
  if (typeof sub !== 'string' || sub.length === 0) {
    throw new TokenError('claims', { claim: 'sub', issuerId, detail: 'sub not a non-empty string' })
  }
  if (typeof iss !== 'string') throw new TokenError('claims', { claim: 'iss', issuerId, detail: 'iss not a string' })
  if (jti === undefined) {
    if (rules.requireJti) throw new TokenError('claims', { claim: 'jti', issuerId, detail: 'jti missing' })
    return
  }
  if (typeof jti !== 'string' || jti.length === 0) {
    throw new TokenError('claims', { claim: 'jti', issuerId, detail: 'jti not a non-empty string' })
  }
}
