/**
 * Public types of the identity module: issuer configuration, the verified token and the single
 * error type. The verifier follows workload-identity.md §2.2 step by step; every failure carries a
 * stable `TokenRejectReason` and a message that never contains the token or a claim value.
 */
import type { JWK } from 'jose'

/** Where an issuer's signing keys come from (workload-identity.md §3). One key set per issuer. */
export type JwksSource =
  /** `<issuer>/.well-known/openid-configuration`; the document's `issuer` must equal the issuer. */
  | { readonly kind: 'discovery' }
  /** A pinned JWKS URL (GitLab `/oauth/discovery/keys`, Kubernetes `/openid/v1/jwks`). */
  | { readonly kind: 'uri'; readonly uri: URL }
  /** A JWKS JSON file (air-gapped or pinned setups); re-read when it changes. */
  | { readonly kind: 'file'; readonly path: string }
  /** Inline public keys. */
  | { readonly kind: 'keys'; readonly keys: readonly JWK[] }

export interface IssuerSpec {
  /** Config id, e.g. `github`. */
  readonly id: string
  /** Exact `iss` match, no normalisation: a trailing slash is another issuer (§2.2 step 7). */
  readonly issuer: string
  readonly jwks: JwksSource
  /** Single, required, gateway-specific audience (RFC 8725 §3.9). */
  readonly audience: string
  /** Asymmetric only: RS*, PS*, ES*, EdDSA/Ed25519 (RFC 8725 §3.1, §3.2). */
  readonly algorithms: readonly string[]
  /** Maximum `exp - iat` in ms (§4; no jose option exists for it). */
  readonly maxLifetimeMs: number
  /** Maximum `now - iat` in ms (jose `maxTokenAge`). */
  readonly maxAgeMs?: number
  /** Tolerance for `exp`, `nbf` and `iat` in ms (§4: 30–60 s). */
  readonly clockSkewMs: number
  /** Claims that must be present; `exp`, `iat` and `sub` are always added. */
  readonly requiredClaims: readonly string[]
  /** Required header `typ` when set (RFC 8725 §3.11), e.g. `at+jwt` for RFC 9068 tokens. */
  readonly typ?: string
  /** Allow `http:` discovery/JWKS URLs (loopback dev/test issuers only). */
  readonly allowInsecureHttp?: boolean
}

export type TokenRejectReason =
  | 'too_large'
  | 'malformed'
  | 'duplicate_member'
  | 'header_param'
  | 'untrusted_issuer'
  | 'alg'
  | 'bad_signature'
  | 'unknown_kid'
  | 'expired'
  | 'claims'
  | 'lifetime'
  | 'issuer_unavailable'

export const tokenRejectReasons: readonly TokenRejectReason[] = [
  'too_large',
  'malformed',
  'duplicate_member',
  'header_param',
  'untrusted_issuer',
  'alg',
  'bad_signature',
  'unknown_kid',
  'expired',
  'claims',
  'lifetime',
  'issuer_unavailable',
]

const tokenErrorBrand = Symbol.for('skillgate.TokenError')

export interface TokenErrorOptions {
  /** The claim (or header parameter) that failed, when there is one. Never its value. */
  readonly claim?: string
  /** Issuer config id once the token was routed; safe to log. */
  readonly issuerId?: string
  /** Internal, code-built detail for logs (a jose error code, a step name). Never a token. */
  readonly detail?: string
}

/**
 * The only error the verifier throws for a bad token. `message` is fixed per reason plus safe
 * detail; it never contains the token, a segment of it or a claim value (style-anchors §3.6).
 * No `cause` is attached: jose claim errors carry the whole payload.
 */
export class TokenError extends Error {
  readonly [tokenErrorBrand] = true
  readonly reason: TokenRejectReason
  readonly claim?: string
  readonly issuerId?: string
  readonly detail: string

  constructor(reason: TokenRejectReason, options: TokenErrorOptions = {}) {
    const detail = options.detail ?? reason
    super(options.claim === undefined ? `token rejected: ${reason}` : `token rejected: ${reason} (${options.claim})`)
    this.name = 'TokenError'
    this.reason = reason
    this.detail = detail
    if (options.claim !== undefined) this.claim = options.claim
    if (options.issuerId !== undefined) this.issuerId = options.issuerId
  }

  /** Works across module copies (the brand is a registered symbol). */
  static is(value: unknown): value is TokenError {
    return typeof value === 'object' && value !== null && tokenErrorBrand in value
  }
}

export interface VerifiedToken {
  readonly issuerId: string
  /** Deep-frozen, null-prototype objects: a `__proto__` member is plain data (catalogue #57). */
  readonly claims: Readonly<Record<string, unknown>>
  readonly header: Readonly<{ alg: string; kid?: string; typ?: string }>
}

export type IssuerState = 'ready' | 'degraded' | 'unavailable'

export interface IssuerHealth {
  id: string
  issuer: string
  /** ready: keys loaded and the last fetch succeeded; degraded: serving cached keys after a failed
   * refetch; unavailable: no key was ever loaded (readiness must report it, §3). */
  state: IssuerState
  detail?: string
  /** Epoch ms of the last successful key load. */
  keysFetchedAt?: number
}

export interface VerifyOptions {
  /** Overrides the 8 KiB default (exchange assertions: 16 KiB, the Claude WIF limit). */
  readonly maxTokenBytes?: number
  /** Require a `jti` claim (exchange input, RFC 9068 tokens). */
  readonly requireJti?: boolean
}

export interface TokenVerifier {
  verify(token: string, options?: VerifyOptions): Promise<VerifiedToken>
  health(): IssuerHealth[]
  /** Fetch every remote key set once; never throws, `health()` reflects failures. */
  warmUp(): Promise<void>
  /** Stop file watchers and timers. */
  close(): void
}

export interface TokenVerifierOptions {
  /** Per JWKS/discovery fetch; default 3000 (§3: use 2–3 s). */
  readonly fetchTimeoutMs?: number
  /** Minimum time between refetches triggered by an unknown `kid` or a failure; default 30000. */
  readonly cooldownMs?: number
  /** Keys older than this are refetched; default 600000. */
  readonly cacheMaxAgeMs?: number
  /** Clock for token time checks (ms since epoch), for tests. Key-set timers use `Date.now()`. */
  readonly now?: () => number
}
