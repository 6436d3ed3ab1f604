import type { TsaTrust } from '../audit/timestamp/index.js'
import type { HeadPublicKey } from '../audit/heads/jws.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Approvals } from '../approvals/index.js'
import type { z } from 'zod'
import type { Config } from '../config/load.js'
import type { Secret } from '../config/secret-source.js'
import type { IssuerHealth, TokenVerifier } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Claims } from '../policy/claims.js'
import type { Policy } from '../policy/compile.js'
import type { ExplainRequest, Explanation } from '../policy/explain.js'
import type { Storage } from '../storage/ports.js'
import type { SessionAuth } from './sessions.js'
import type { SlackApp } from './slack/interactions.js'

/** The roles of SPEC §2 `admin.tokens[].roles`; a human's roles come from its issuer's `roleClaim`. */
export type Role = 'admin' | 'approver' | 'auditor'
export const roles: readonly Role[] = ['admin', 'approver', 'auditor']

/**
 * Who acted, as the audit, the queue and the console name them: a person (signed in with OIDC, or
 * mapped from Slack) or a static admin token by its `name`. Never carries a credential.
 */
export interface Actor {
  /** `token`: an `admin.tokens` entry; `oidc`: a human token of `admin.issuers`; `slack`: a mapped Slack user; `anonymous`: public routes. */
  readonly kind: 'token' | 'oidc' | 'slack' | 'anonymous'
  /** Stable, safe id: `token:<name>` (or `admin.tokens[i]` when unnamed), `oidc:<issuer id>:<sub>`, `slack:<user id>`. */
  readonly id: string
  /** The person's or token's name as shown to people. */
  readonly name?: string | undefined
  readonly email?: string | undefined
  /** A person's OIDC `iss` and `sub`, so the store can refuse self-approval across id schemes. */
  readonly issuer?: string | undefined
  readonly subject?: string | undefined
}

/** Who called, as authenticated, with the roles they hold. */
export interface Caller extends Actor {
  readonly roles: ReadonlySet<Role>
}

/** A person allowed to decide from Slack (`notify[].slack.approvers`), by Slack user id. */
export interface SlackApprover {
  readonly name: string
  readonly email?: string | undefined
  readonly roles: readonly Role[]
  readonly issuer?: string | undefined
  readonly subject?: string | undefined
}

/** Human sign-in for `admin.issuers`: a verifier over those issuers only, and each one's `roleClaim`. */
export interface HumanVerifier {
  readonly verifier: TokenVerifier
  /** Issuer config id → the claim (name or dotted path) holding the role or roles. */
  readonly roleClaims: ReadonlyMap<string, string>
  /** Issuer config id → role → the claim values granting it (`admin.issuers[].roles`); absent: values are role names. */
  readonly roleMaps?: ReadonlyMap<string, RoleMap> | undefined
}

/** `admin.issuers[].roles`: which group names or ids grant each role. */
export type RoleMap = { readonly [R in Role]?: readonly string[] | undefined }


/** What an admin did, for the caller to audit and notify (SPEC §2 `notify`: revocations, decisions). */
export interface AdminAction {
  readonly action:
    | 'revocation.principal'
    | 'revocation.token'
    | 'revocation.issuer'
    | 'revocation.principal.lift'
    | 'revocation.issuer.enable'
    | 'review.approve'
    | 'review.deny'
    | 'grant.revoke'
    | 'owner.assign'
    | 'session.revoke'
  /** Who did it (the caller without its roles). */
  readonly actor: Actor
  /** The request id of the admin call (also in the `skillgate-request-id` response header). */
  readonly requestId: string
  readonly at: Date
  /** What was acted on: principal, issuer id, `iss`+`jti`, review id, grant id. Never a token. */
  readonly target: Readonly<Record<string, string>>
  readonly reason?: string
  /** Its audit record was written in order through `openAdminAction`. */
  readonly audited?: boolean
}

export type ExplainFn = (claims: Claims, issuerId: string, request: ExplainRequest) => Explanation

/** Everything the admin API needs from the running gateway; built once per configuration in `wiring/admin.ts`. */
export interface AdminApiDeps {
  /** The frozen running config: `admin.tokens` roles, the issuers and rules, and the redacted view. */
  readonly config: Config
  /** `config.secrets.adminTokens`: the same order and length as `config.admin.tokens`. */
  readonly adminTokens: readonly Secret[]
  /** Absent when `admin.issuers` is empty: then only admin tokens authenticate. */
  readonly humans?: HumanVerifier | undefined
  readonly storage: Pick<Storage, 'kind' | 'audit' | 'revocations' | 'reviews' | 'grants' | 'owners' | 'health' | 'sessions'>
  /** The data plane's revocation cache: refreshed after every change so it applies at once in this process. */
  readonly revocations: Pick<RevocationCache, 'refresh'>
  /**
   * The approvals domain of the running gateway: decisions go through it so the rule's `approvers`
   * roles, grant TTL and uses apply, held requests in this process wake at once, and `onEvent`
   * notifies. It refuses self-approval (the store re-checks it in the deciding transaction).
   */
  readonly approvals: Pick<Approvals, 'decide' | 'settingsFor'>
  /** The running gateway's compiled policy. */
  readonly policy: Policy
  /** Default: `explainWithPolicy(policy, …)`; override to add what the gateway knows (container owners). */
  readonly explain?: ExplainFn | undefined
  /** Workload issuers' key-set health (`verifier.health()`). */
  readonly issuersHealth: () => readonly IssuerHealth[]
  readonly logger: Logger
  /** Awaited after a change succeeded; a failure is logged and does not undo the change. */
  readonly onAdminAction?: ((event: AdminAction) => void | Promise<void>) | undefined
  /**
   * Audit ordering (issue #16): commits the opening record of a change before it is applied and
   * returns the closer, awaited after it. Rejecting refuses the change with 503
   * (`GW_ADMIN_AUDIT_UNAVAILABLE`) and nothing changes. Events of changes recorded this way reach
   * `onAdminAction` with `audited: true`.
   */
  readonly openAdminAction?: ((event: AdminAction) => Promise<(outcome: { readonly ok: boolean }) => Promise<void>>) | undefined
  /** A rotated admin token file that could not be re-read (the previous token stays valid). */
  readonly onSecretError?: ((error: Error) => void) | undefined
  /** `audit.signing` public keys by kid: `GET /admin/api/audit/heads/latest` checks the newest head with them. */
  readonly auditKeys?: ReadonlyMap<string, HeadPublicKey> | undefined
  /** `audit.timestamping.trust`: the same status also checks the newest head's RFC 3161 timestamp. */
  readonly tsaTrust?: TsaTrust | undefined
  /** Console sessions (cookie + CSRF); absent: bearer credentials only. */
  readonly sessions?: SessionAuth | undefined
  /** The Slack apps of `notify:` whose Approve/Deny clicks `POST /admin/slack/interactions` takes. */
  readonly slack?: readonly SlackApp[] | undefined
  /** Clock, for tests. */
  readonly now?: (() => Date) | undefined
}

/** Per-call state handed to a route handler. */
export interface RouteContext<Q, B> {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly requestId: string
  readonly caller: Caller
  /** Path parameters, already percent-decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly query: Q
  readonly body: B
  /** Aborted when the client goes away (streams stop). */
  readonly signal: AbortSignal
}

/** A JSON reply, or `streamed` when the handler wrote the response itself (SSE, JSONL). */
export type Reply = { readonly status: number; readonly body?: unknown } | 'streamed'

export type Method = 'GET' | 'POST' | 'DELETE'

export interface ResponseDoc {
  readonly description: string
  /** JSON Schema of the body (OpenAPI 3.1 is JSON Schema 2020-12). */
  readonly schema?: Readonly<Record<string, unknown>>
  /** Default `application/json`. */
  readonly contentType?: string
}

/** One route: what the router dispatches and what the OpenAPI document describes. */
export interface RouteDef {
  readonly method: Method
  /** OpenAPI template, e.g. `/admin/api/audit/{id}`. */
  readonly path: `/admin/api/${string}`
  /** Roles allowed (any one suffices); `public` needs no credential. */
  readonly roles: readonly Role[] | 'public'
  readonly summary: string
  readonly tag: string
  readonly query?: z.ZodType
  readonly body?: z.ZodType
  /** Success responses; the error responses are added for every route. */
  readonly responses: Readonly<Record<number, ResponseDoc>>
  readonly handle: (ctx: RouteContext<unknown, unknown>) => Promise<Reply>
}
