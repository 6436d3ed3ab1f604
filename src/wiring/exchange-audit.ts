import { buildCompletion, buildOpening } from '../audit/record-builder.js'
import type { AuditCompletion, AuditOpening } from '../audit/record.js'
import type { AuditWriter } from '../audit/writer.js'
import type { ExchangeEvent, ExchangeOpening, ExchangeRecordCloser } from '../exchange/index.js'
import { formatActChain } from '../identity/act-chain.js'
import { newRequestId } from '../observability/request-id.js'
import type { ErrorReports } from './error-reports.js'

/**
 * Token exchanges in the audit (issue #16, item 5). A granted exchange's opening is committed before
 * a token is minted and its completion before the token is returned (under `strict` both are
 * awaited; the exchange answers 503 when either cannot be committed). Refusals change nothing, so
 * they are recorded afterwards as one record, as before.
 */
export function exchangeRecordOpener(audit: AuditWriter): (opening: ExchangeOpening) => Promise<ExchangeRecordCloser> {
  return async (facts) => {
    const opening = grantedOpening(facts)
    await audit.begin(opening)
    return (event) => audit.complete(opening.id, completionOf(event, new Date(facts.started)))
  }
}

export async function recordRefusedExchange(deps: { readonly audit: AuditWriter | undefined; readonly reports: ErrorReports }, event: ExchangeEvent): Promise<void> {
  if (!deps.audit || event.type !== 'exchange.failed') return
  const started = Date.now() - event.durationMs
  const opening = exchangeOpening(started, event.issuerId ? { issuerId: event.issuerId, claims: {} } : undefined, {
    effect: 'deny',
    rule: event.rule,
    reasons: [{ code: 'exchange-refused', detail: event.detail ? `${event.reason}: ${event.detail}` : event.reason }],
  })
  try {
    await deps.audit.record(opening, completionOf(event, new Date(started)))
  } catch (error) {
    deps.reports.auditWrite(error as Error, { op: 'exchange' }, { exchange: event.type })
  }
}

function grantedOpening(facts: ExchangeOpening): AuditOpening {
  const claims = { iss: facts.iss, sub: facts.sub, ...(facts.jti ? { jti: facts.jti } : {}) }
  return exchangeOpening(facts.started, { issuerId: facts.issuerId, claims }, {
    effect: 'allow',
    rule: facts.rule,
    principal: facts.principal,
    // The subject's own delegation chain (RFC 8693 §4.1), nested under the minted token's `act`.
    reasons: [{ code: 'exchange-succeeded', detail: facts.act ? `${facts.grant}; act: ${formatActChain(facts.act)}` : facts.grant }],
  })
}

type Decision = Parameters<typeof buildOpening>[0]['decision']
type Identity = Parameters<typeof buildOpening>[0]['identity']

function exchangeOpening(started: number, identity: Identity, decision: Decision): AuditOpening {
  return buildOpening({
    id: newRequestId(started),
    start: new Date(started),
    identity,
    decision,
    endpoint: 'oauth_token',
    method: 'POST',
    path: '/v1/oauth/token',
    requestBytes: 0,
    content: 'metadata',
  })
}

function completionOf(event: ExchangeEvent, start: Date): AuditCompletion {
  const ok = event.type === 'exchange.succeeded'
  return buildCompletion({
    start,
    end: new Date(),
    status: ok ? 200 : event.status,
    outcome: ok ? 'completed' : event.status >= 500 ? 'error' : 'denied',
    ...(ok ? {} : { error: event.error }),
    content: 'metadata',
  })
}
