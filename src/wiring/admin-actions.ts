import type { Logger } from 'pino'
import type { AdminAction } from '../admin/index.js'
import { buildCompletion, buildOpening } from '../audit/record-builder.js'
import type { AuditOpening } from '../audit/record.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Notifier } from '../notify/index.js'
import { newRequestId } from '../observability/request-id.js'
import type { ErrorReports } from './error-reports.js'

/**
 * What an admin did goes where a security team will look: the log, the hash-chained audit (one
 * record per action, endpoint `admin`, the actor as principal) and, for revocations, the
 * notification webhooks. Review decisions notify through the approvals module already. An audit
 * record that cannot be written is reported (the change itself has happened).
 */
export function recordAdminActions(deps: {
  readonly logger: Logger
  readonly audit: AuditWriter | undefined
  readonly notifier: Notifier
  readonly reports: ErrorReports
}): (event: AdminAction) => Promise<void> {
  return async function recordAdminAction(event) {
    deps.logger.info({ adminAction: event.action, actor: event.actor.id, target: event.target, reason: event.reason, reqId: event.requestId }, 'admin action')
    const revocation = revocationNotice(event)
    if (revocation) deps.notifier.publish({ type: 'revocation', at: event.at, ...revocation })
    // Changes recorded in order (openAdminActions) already have their record.
    if (!deps.audit || event.audited === true) return
    try {
      await recordInAudit(deps.audit, event)
    } catch (error) {
      deps.reports.auditWrite(error as Error, { op: 'admin' }, { adminAction: event.action, reqId: event.requestId })
    }
  }
}

/**
 * Audit ordering (issue #16): the opening record of an admin change is committed before the change
 * is applied (under `strict` the admin API refuses with 503 when it cannot be), the completion after.
 */
export function openAdminActions(audit: AuditWriter): (event: AdminAction) => Promise<(outcome: { readonly ok: boolean }) => Promise<void>> {
  return async (event) => {
    const opening = adminOpening(event)
    await audit.begin(opening)
    return ({ ok }) =>
      audit.complete(opening.id, buildCompletion({ start: event.at, end: new Date(), status: ok ? 200 : 409, outcome: ok ? 'completed' : 'error', content: 'metadata' }))
  }
}

/** The actor's identity as the record's own: principal = actor id, issuer = its kind, claims = the person. */
const actorClaimNames = ['iss', 'sub', 'email', 'name']

function recordInAudit(audit: AuditWriter, event: AdminAction): Promise<unknown> {
  return audit.record(adminOpening(event), buildCompletion({ start: event.at, end: new Date(), status: 200, outcome: 'completed', content: 'metadata' }))
}

function adminOpening(event: AdminAction): AuditOpening {
  const start = event.at
  const { actor } = event
  return buildOpening({
    id: newRequestId(start.getTime()),
    start,
    identity: { issuerId: `admin:${actor.kind}`, claims: { iss: actor.issuer, sub: actor.subject, email: actor.email, name: actor.name } },
    claimNames: actorClaimNames,
    reviewId: event.target.review,
    decision: { effect: 'allow', principal: actor.id, reasons: [{ code: event.action, detail: JSON.stringify(event.target) }] },
    endpoint: 'admin',
    method: 'POST',
    path: `/admin/api/${event.action}`,
    requestBytes: 0,
    content: 'metadata',
  })
}

function revocationNotice(event: AdminAction) {
  const t = event.target
  const meta = { actor: event.actor.name ?? event.actor.id, reason: event.reason ?? null }
  switch (event.action) {
    case 'revocation.principal':
      return { action: 'revoked' as const, revocation: { kind: 'principal' as const, subject: t.principal ?? '', ...meta } }
    case 'revocation.token':
      return { action: 'revoked' as const, revocation: { kind: 'token' as const, subject: t.iss ?? '', jti: t.jti ?? null, ...meta } }
    case 'revocation.issuer':
      return { action: 'revoked' as const, revocation: { kind: 'issuer' as const, subject: t.issuer ?? '', ...meta } }
    case 'revocation.principal.lift':
      return { action: 'lifted' as const, revocation: { kind: 'principal' as const, subject: t.principal ?? '', ...meta } }
    case 'revocation.issuer.enable':
      return { action: 'lifted' as const, revocation: { kind: 'issuer' as const, subject: t.issuer ?? '', ...meta } }
    default:
      return undefined
  }
}
