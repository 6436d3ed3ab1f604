import type { Logger } from 'pino'
import { createAdminApi, type AdminApi } from '../admin/index.js'
import { sessionAuthFor } from '../admin/sessions.js'
import type { Approvals } from '../approvals/index.js'
import type { HeadPublicKey } from '../audit/heads/index.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import type { IssuerHealth, TokenVerifier } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { SlackApp } from '../admin/index.js'
import type { Notifier } from '../notify/index.js'
import type { Policy } from '../policy/compile.js'
import type { Storage } from '../storage/ports.js'
import { openAdminActions, recordAdminActions } from './admin-actions.js'
import type { AuditSigningKeys } from './audit-signing.js'
import type { ErrorReports } from './error-reports.js'

export interface AdminDeps {
  readonly config: Config
  readonly policy: Policy
  readonly approvals: Approvals
  /** Human OIDC issuers of `admin.issuers`, if any. */
  readonly humans: TokenVerifier | undefined
  readonly issuersHealth: () => readonly IssuerHealth[]
  readonly storage: Storage
  readonly revocations: RevocationCache
  readonly audit: AuditWriter | undefined
  readonly auditSigning: AuditSigningKeys | undefined
  readonly notifier: Notifier
  readonly slackApps: readonly SlackApp[]
  readonly logger: Logger
  readonly reports: ErrorReports
}

/** `/admin/api/*` for one configuration: its tokens, human issuers, policy and approvals. */
export function buildAdmin(deps: AdminDeps): AdminApi {
  const { config } = deps
  // Every action is recorded under its actor; an unnamed token says only where it sits in the file.
  config.admin.tokens.forEach((token, i) => {
    if (token.name === undefined) deps.logger.warn({ token: `admin.tokens[${i}]` }, 'admin token without a name: its actions are recorded as admin.tokens[i]; give it a name')
  })
  const api = createAdminApi({
    config,
    adminTokens: config.secrets.adminTokens,
    humans: deps.humans && {
      verifier: deps.humans,
      roleClaims: new Map(config.admin.issuers.map((i) => [i.id, i.roleClaim])),
      roleMaps: new Map(config.admin.issuers.flatMap((i) => (i.roles ? [[i.id, i.roles] as const] : []))),
    },
    storage: deps.storage,
    revocations: deps.revocations,
    approvals: deps.approvals,
    policy: deps.policy,
    issuersHealth: deps.issuersHealth,
    logger: deps.logger.child({ component: 'admin' }),
    onAdminAction: recordAdminActions(deps),
    ...(deps.auditSigning ? { auditKeys: trustedKeys(deps.auditSigning), tsaTrust: deps.auditSigning.tsaTrust } : {}),
    ...(deps.audit ? { openAdminAction: openAdminActions(deps.audit) } : {}),
    onSecretError: (error) => deps.reports.secretFile(error),
    slack: deps.slackApps,
    sessions: sessionAuthFor(config, deps.storage.sessions),
  })
  // Ended sessions are refused as they are read; this only keeps the table from growing.
  const idleMs = config.admin.sessions.idleTimeout
  const prune = setInterval(() => void deps.storage.sessions.prune(idleMs).catch((error: unknown) => deps.reports.storage(error as Error, { op: 'sessions' })), 300_000)
  prune.unref()
  return {
    ...api,
    close() {
      clearInterval(prune)
      api.close()
    },
  }
}

/** The keys a head in the store may carry: the signing key and `previousKeys`. */
function trustedKeys(signing: AuditSigningKeys): ReadonlyMap<string, HeadPublicKey> {
  return new Map([signing.key, ...signing.previous].map((k) => [k.kid, k]))
}
