/**
 * Replay entries outlive the assertion's `exp` by this much: verifiers accept a token until
 * `exp + clockSkew`, so an entry dropped at `exp` would reopen that window. Every issuer's `clockSkew`
 * (OIDC issuers by config, SAML issuers by config and by `createSamlVerifier`) is capped at this
 * value, so an entry lives until at least `exp + clockSkew`.
 */
export const REPLAY_GRACE_MS = 5 * 60_000
