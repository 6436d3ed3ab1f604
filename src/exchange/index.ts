/**
 * The token endpoint, `POST /v1/oauth/token` (workload-identity.md §7, §8; SPEC §3): Claude WIF JSON,
 * RFC 7523 form and RFC 8693 token exchange (JWT and SAML 2.0 subject tokens) → a gateway token.
 * Transport-free: mount `createTokenExchange(deps)` on any HTTP server.
 */
export { createTokenExchange, MAX_ASSERTION_BYTES } from './handler.js'
export { REPLAY_GRACE_MS } from './replay-grace.js'
export { createMemoryMintedStore } from './memory-minted-store.js'
export type { MemoryMintedStore, MemoryMintedStoreOptions } from './memory-minted-store.js'
export { createMemoryReplayGuard } from './memory-replay.js'
export type { MemoryReplayGuard, MemoryReplayGuardOptions } from './memory-replay.js'
export { ExchangeError, NO_STORE_HEADERS } from './oauth-error.js'
export { bodyRefusedResponse, EXCHANGE_BODY_LIMITS, readBody } from './read-body.js'
export type { BodyLimits, BodyResult } from './read-body.js'
export {
  GRANT_JWT_BEARER,
  GRANT_TOKEN_EXCHANGE,
  MAX_EXCHANGE_BODY_BYTES,
  RULE_HEADER,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_ID_TOKEN,
  TOKEN_TYPE_JWT,
  TOKEN_TYPE_SAML2,
} from './parse-request.js'
// The SAML verifier (src/exchange/saml.ts) is imported where SAML issuers are configured: it
// pulls in an XML and signature library most gateways never need.
export { SamlRejectedError } from './saml-error.js'
export type { SamlIssuerSpec, SamlVerifierOptions } from './saml.js'
export type {
  ExchangeContext,
  ExchangeEvent,
  ExchangeGrant,
  ExchangeHttpRequest,
  ExchangeHttpResponse,
  ExchangeIssuerPolicy,
  ExchangeOpening,
  ExchangeRecordCloser,
  OAuthErrorCode,
  ReplayGuard,
  RuleMatch,
  SamlAssertionVerifier,
  TokenExchangeDeps,
  TokenExchangeHandler,
} from './types.js'
