/**
 * Maps `jose` error codes (src/util/errors.ts; workload-identity.md §2.3) to reject reasons. The
 * jose error itself is dropped: claim errors carry the whole payload, which must not reach logs
 * through `cause`. Only the code, and the claim name for claim errors, survive.
 */
import { TokenError, type TokenRejectReason } from './types.js'

interface JoseLike {
  readonly code: string
  readonly claim?: unknown
}

function isJoseLike(err: unknown): err is JoseLike {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
}

const byCode: Readonly<Record<string, TokenRejectReason>> = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claims',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_kid',
  // Two keys with the same `kid` and key type: ambiguous, never "try them all".
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_kid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg',
  ERR_JOSE_NOT_SUPPORTED: 'alg',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
  ERR_JWKS_TIMEOUT: 'issuer_unavailable',
  ERR_JWKS_INVALID: 'issuer_unavailable',
}

/** Converts anything thrown by `jwtVerify` into a `TokenError`. */
export function toTokenError(err: unknown, issuerId: string): TokenError {
  if (TokenError.is(err)) return err
  if (!isJoseLike(err)) {
    // jose throws TypeError for unusable keys, e.g. an RSA key under 2048 bits (catalogue #6), or a
    // JWK that does not fit the algorithm: the signature cannot be checked with a trusted key.
    return new TokenError('bad_signature', { issuerId, detail: 'key unusable for verification' })
  }
  const claim = typeof err.claim === 'string' ? err.claim : undefined
  // `maxTokenAge` reports an old `iat` as ERR_JWT_EXPIRED; the token itself has not expired, it is
  // too old for this issuer (catalogue #26 expects `claims`).
  if (err.code === 'ERR_JWT_EXPIRED' && claim === 'iat') {
    return new TokenError('claims', { claim, issuerId, detail: 'iat older than maxAge' })
  }
  const reason = byCode[err.code] ?? 'malformed'
  return claim === undefined
    ? new TokenError(reason, { issuerId, detail: err.code })
    : new TokenError(reason, { claim, issuerId, detail: err.code })
}
