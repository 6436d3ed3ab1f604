import { buildCompletion, buildOpening } from '../audit/record-builder.js'
import type { AuditContentMode } from '../audit/record.js'
import type { RefusalAggregator } from '../audit/refusals.js'
import type { AuditWriter } from '../audit/writer.js'
import { asGatewayError } from '../errors/to-response.js'
import type { Stage } from '../pipeline/stage.js'
import { auditRequest, recordedDecision } from './audit-facts.js'
import type { Masking } from '../masking/rule-masking.js'

/**
 * One record per request (SPEC §5): a request refused before its record was opened (401, 403, 400,
 * 413, 429…) is recorded here in one commit with the reason, then the error continues to the client.
 * A failure to record a refusal is logged, never turned into an allow.
 */
export const auditTrail = (writer: AuditWriter, content: AuditContentMode, masking: Masking, refusals?: RefusalAggregator): Stage =>
  async function auditTrail(ctx, next) {
    try {
      await next()
    } catch (error) {
      if (!ctx.audit && ownRecord(ctx, error, refusals)) await recordRefusal(ctx, writer, content, masking, error)
      throw error
    }
  }

/**
 * An unauthenticated refusal (no verified identity, a 4xx) beyond the per-address burst is counted
 * into its minute's aggregated record instead (audit/refusals.ts); everything else is recorded alone.
 */
function ownRecord(ctx: Parameters<Stage>[0], error: unknown, refusals: RefusalAggregator | undefined): boolean {
  if (!refusals || ctx.identity) return true
  const failure = asGatewayError(error)
  if (failure.status >= 500) return true
  return refusals.admit({ clientAddress: ctx.clientAddress, code: failure.code, status: failure.status })
}

async function recordRefusal(ctx: Parameters<Stage>[0], writer: AuditWriter, content: AuditContentMode, masking: Masking, error: unknown): Promise<void> {
  const failure = asGatewayError(error)
  const start = new Date(Date.now() - (performance.now() - ctx.startedAt))
  // A call that waits for a human, or that a human denied, is recorded as such with its review.
  const decision = recordedDecision(ctx, ctx.decision ?? { effect: 'deny' as const, reasons: [{ code: failure.code }] })
  const request = auditRequest(ctx, masking)
  try {
    await writer.record(
      buildOpening({
        id: ctx.id,
        start,
        identity: ctx.identity,
        decision,
        reviewId: ctx.reviewId,
        endpoint: ctx.endpoint?.name ?? 'unknown',
        method: ctx.method,
        path: ctx.path,
        ...request.facts,
        requestBytes: ctx.body?.length ?? 0,
        requestBody: request.body,
        requestMaskHits: request.hits,
        content,
      }),
      buildCompletion({ start, end: new Date(), status: failure.status, outcome: failure.status < 500 ? 'denied' : 'error', error: failure.code, content }),
    )
  } catch (recordError) {
    ctx.log.error({ detail: (recordError as Error).message }, 'refused request could not be recorded in the audit')
  }
}
