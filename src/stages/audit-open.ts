import { buildCompletion, buildOpening } from '../audit/record-builder.js'
import { asGatewayError } from '../errors/to-response.js'
import type { AuditContentMode } from '../audit/record.js'
import type { AuditWriter } from '../audit/writer.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { Stage } from '../pipeline/stage.js'
import { auditRequest, recordedDecision } from './audit-facts.js'
import type { Masking } from '../masking/rule-masking.js'

/**
 * Commits the opening half of the audit record before anything goes upstream (SPEC §5, strict
 * durability). When the store cannot commit, the request is refused with 503 and never forwarded
 * unaudited. Under `async` durability the write is queued and this stage does not wait.
 */
export const auditOpen = (writer: AuditWriter, content: AuditContentMode, masking: Masking): Stage =>
  async function auditOpen(ctx, next) {
    const decision = ctx.decision
    if (!decision) throw new GatewayError('GW_INTERNAL', { detail: 'audit-open ran before authorize' })
    const start = new Date(Date.now() - (performance.now() - ctx.startedAt))
    const request = auditRequest(ctx, masking)
    const opening = buildOpening({
      id: ctx.id,
      start,
      identity: ctx.identity,
      decision: recordedDecision(ctx, decision),
      reviewId: ctx.reviewId,
      endpoint: ctx.endpoint?.name ?? 'unknown',
      method: ctx.method,
      path: ctx.path,
      ...request.facts,
      requestBytes: ctx.body?.length ?? 0,
      requestBody: request.body,
      requestMaskHits: request.hits,
      content,
    })
    try {
      await writer.begin(opening)
    } catch (error) {
      throw new GatewayError('GW_AUDIT_UNAVAILABLE', { detail: `audit begin failed: ${(error as Error).message}`, cause: error })
    }
    ctx.audit = { opening, start }
    try {
      return await next()
    } catch (error) {
      // forward failed (502/504, client gone before the upstream answered): audit-close never ran.
      if (!ctx.response) {
        const failure = asGatewayError(error)
        const interrupted = ctx.signal.aborted
        await writer
          .complete(ctx.id, buildCompletion({ start, end: new Date(), status: interrupted ? undefined : failure.status, outcome: interrupted ? 'interrupted' : 'error', error: failure.code, content }))
          .catch((e: unknown) => ctx.log.error({ detail: (e as Error).message }, 'audit completion could not be committed'))
      }
      throw error
    }
  }
