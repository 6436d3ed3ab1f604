/**
 * The source of every live gateway token (issue #13 item 1): the verified claims of the workload
 * token or SAML assertion it was exchanged for, kept by the gateway token's `jti` until it expires.
 * `/v1` re-evaluates deny rules and the bound rule's `match` over them on every call, so a rule
 * change reaches tokens minted before it. Both methods throw when the store cannot be reached: minting
 * then answers 503 and a `/v1` call is refused (fail closed).
 */
export interface MintedTokenSource {
  /** The issuer config id the source was verified against (`VerifiedToken.issuerId`). */
  readonly issuerId: string
  /** Its full verified claims: JSON values only (SQL adapters store them as JSON text). */
  readonly claims: Readonly<Record<string, unknown>>
}

export interface MintedTokenStore {
  /** Keeps `source` for the gateway token `jti` until `expiresAt` (its `exp` plus clock tolerance). */
  put(jti: string, source: MintedTokenSource, expiresAt: Date): Promise<void>
  /** The source of a live gateway token; undefined when unknown or expired. */
  get(jti: string): Promise<MintedTokenSource | undefined>
}
