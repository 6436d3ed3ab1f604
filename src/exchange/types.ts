/**
 * The contract of the token endpoint (`POST /v1/oauth/token`, workload-identity.md §7): what the
 * transport hands in, what it gets back, and every dependency the handler needs. Transport-free: no
 * HTTP server types, so the server, a test or a CLI can drive it.
 */
import type { ActClaim } from '../identity/act-chain.js'
import type { GatewayTokens, MintedGatewayToken, MintInput } from '../identity/gateway-token.js'
import type { TokenVerifier, VerifiedToken, VerifyOptions } from '../identity/index.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'

export interface ExchangeHttpRequest {
  /** The raw `content-type` header. */
  readonly contentType: string | undefined
  /** The whole request body; cap reading at `MAX_EXCHANGE_BODY_BYTES`. */
  readonly body: Buffer
  /** Lower-case header names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Where the request came from (`listen.trustedProxies` applied); carried into a refusal's event. */
  readonly clientAddress?: string
}

export interface ExchangeHttpResponse {
  readonly status: number
  readonly headers: Record<string, string>
  /** JSON text. */
  readonly body: string
}

export type TokenExchangeHandler = (request: ExchangeHttpRequest) => Promise<ExchangeHttpResponse>

/** Which wire form the client used. */
export type ExchangeGrant =
  /** Claude WIF: JSON `jwt-bearer` with `federation_rule_id` and `organization_id` (SDK 1.x, Claude Code). */
  | 'wif'
  /** RFC 7523 §2.1: form-encoded `jwt-bearer` with `assertion`. */
  | 'jwt-bearer'
  /** RFC 8693: form-encoded `token-exchange` with `subject_token`. */
  | 'token-exchange'

/** Per-issuer exchange settings (from `issuers[]`). An issuer missing here cannot be exchanged. */
export interface ExchangeIssuerPolicy {
  /** Issuer config id (`VerifiedToken.issuerId`, or a SAML issuer's id). */
  readonly id: string
  /** `(iss, jti)` of an assertion is exchanged at most once; `jti` becomes required. */
  readonly singleUse: boolean
}

/** Narrowing the client asked for, handed to `matchRule` for information. */
export interface ExchangeContext {
  readonly grant: ExchangeGrant
  readonly serviceAccountId?: string
  readonly workspaceId?: string
  /** RFC 8707 `resource` values (already checked against `resources`). */
  readonly resources: readonly string[]
}

export type RuleMatch =
  | {
      readonly ok: true
      readonly rule: string
      readonly principal: string
      /** The rule's scopes, space-separated; requested scopes must be a subset (RFC 8693 §2.1). */
      readonly scope?: string
      /** WIF `service_account_id` values this rule accepts; a requested value not listed is refused. */
      readonly serviceAccountIds?: readonly string[]
      /** WIF `workspace_id` values this rule accepts; a requested value not listed is refused. */
      readonly workspaceIds?: readonly string[]
    }
  | { readonly ok: false; readonly reason: string }

/**
 * Single use of assertions (workload-identity.md §6): `(iss, jti)` remembered until the assertion's
 * `exp`. Structurally the storage `ReplayStore`, so `storage.replay` can be passed as it is.
 */
export interface ReplayGuard {
  /** true the first time `(iss, jti)` is seen; false for a replay. Throws when the store is unavailable. */
  useOnce(iss: string, jti: string, expiresAt: Date): Promise<boolean>
}

/** A verified SAML assertion, shaped like a verified JWT so rules and `mint` treat both alike. */
export interface SamlAssertionVerifier {
  /** `subjectToken` is the base64url assertion (RFC 8693 §3 `saml2`). Throws `SamlRejectedError`. */
  verify(subjectToken: string): Promise<VerifiedToken>
}

export interface TokenExchangeDeps {
  /** The workload-token verifier (issuer registry). */
  readonly verifier: Pick<TokenVerifier, 'verify'>
  readonly issuers: readonly ExchangeIssuerPolicy[]
  readonly gatewayTokens: Pick<GatewayTokens, 'mint' | 'issuer' | 'audience'>
  readonly replay: ReplayGuard
  /** Keeps each minted token's source claims by its `jti`; a failing `put` answers 503 and no token. */
  readonly minted: MintedTokenStore
  /**
   * Evaluates policy for the verified subject. `namedRule` is the WIF `federation_rule_id` (or the
   * `skillgate-rule` header): when set, only that rule may match.
   */
  readonly matchRule: (identity: VerifiedToken, namedRule: string | undefined, context: ExchangeContext) => RuleMatch | Promise<RuleMatch>
  /** The configured tenant: WIF `organization_id` must equal it. Undefined: the field is not checked. */
  readonly organizationId?: string
  /** Accepted RFC 8707 `resource` values; default the gateway issuer and its `/v1` audience. */
  readonly resources?: readonly string[]
  /** RFC 8693 `saml2` subject tokens; undefined: SAML is not accepted. */
  readonly saml?: SamlAssertionVerifier
  /** Revocation check (principal cut-off, `(iss, jti)` deny-list, disabled issuer): true = refuse. */
  readonly isRevoked?: (identity: VerifiedToken, principal: string) => boolean | Promise<boolean>
  readonly now?: () => number
  /** Audit/log hook. Events carry ids and reasons, never a token. Must not throw. */
  readonly onEvent?: (event: ExchangeEvent) => void
  /**
   * Audit ordering (issue #16): commits the opening record of a granted exchange before anything is
   * minted or spent and returns its closer, which commits the completion before the answer leaves.
   * Rejecting (the store cannot commit under `strict`) refuses the exchange with 503, nothing
   * minted, nothing spent. Events of an exchange recorded this way carry `audited: true`.
   */
  readonly openRecord?: (opening: ExchangeOpening) => Promise<ExchangeRecordCloser>
}

/** What an exchange's opening record states: who, under which rule, before a token exists. */
export interface ExchangeOpening {
  readonly grant: ExchangeGrant
  readonly issuerId: string
  readonly iss: string
  readonly sub: string
  readonly jti?: string
  /** The subject's own RFC 8693 delegation chain, nested under the minted token's `act`. */
  readonly act?: ActClaim
  readonly rule: string
  readonly principal: string
  /** ms since the epoch, when the exchange request arrived. */
  readonly started: number
}

/** Commits the completion; rejects when it cannot (the exchange then answers 503 and no token). */
export type ExchangeRecordCloser = (event: ExchangeEvent) => Promise<void>

/** The OAuth error codes the endpoint answers with (RFC 6749 §5.2, RFC 8693 §2.2.2). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_grant_type'
  | 'temporarily_unavailable'
  | 'server_error'

export type ExchangeEvent =
  | (Omit<ExchangeOpening, 'started'> & {
      readonly type: 'exchange.succeeded'
      /** `jti` of the minted gateway token. */
      readonly tokenId: string
      readonly expiresIn: number
      readonly scope?: string
      readonly durationMs: number
      /** The exchange's audit record was written in order through `openRecord`. */
      readonly audited?: boolean
    })
  | {
      readonly type: 'exchange.failed'
      readonly grant?: ExchangeGrant
      readonly status: number
      readonly error: OAuthErrorCode
      /** Stable internal reason, e.g. `token:expired`, `replay`, `no_rule`, `saml:recipient`. */
      readonly reason: string
      /** Code-built detail (a rule's reason, a claim name). Never a token or a secret. */
      readonly detail?: string
      readonly issuerId?: string
      readonly rule?: string
      readonly durationMs: number
      /** The exchange's audit record was opened through `openRecord` and closed with this event. */
      readonly audited?: boolean
      /** Refused before any assertion verified: nobody known asked (bounded like /v1's anonymous refusals). */
      readonly anonymous?: true
      readonly clientAddress?: string
    }

export type { ActClaim, MintInput, MintedGatewayToken, VerifiedToken, VerifyOptions }
