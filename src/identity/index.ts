/**
 * Identity module: a hardened, per-issuer JWT verifier for workload tokens
 * (workload-identity.md §2.2). Pure domain code: no HTTP server types, no pipeline imports.
 */
export { createTokenVerifier } from './verifier.js'
export { ASYMMETRIC_ALGORITHMS } from './issuer-registry.js'
export { DEFAULT_MAX_TOKEN_BYTES, MAX_HEADER_SEGMENT_CHARS, MAX_TOKEN_BYTES_LIMIT } from './compact.js'
export { TokenError, tokenRejectReasons } from './types.js'
export type {
  IssuerHealth,
  IssuerSpec,
  IssuerState,
  JwksSource,
  TokenErrorOptions,
  TokenRejectReason,
  TokenVerifier,
  TokenVerifierOptions,
  VerifiedToken,
  VerifyOptions,
} from './types.js'
