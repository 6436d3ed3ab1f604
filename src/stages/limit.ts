import { GatewayError } from '../errors/gateway-error.js'
import { billedTokens, type Limiter, type LimitsConfig, type LimitVerdict } from '../limits/index.js'
import type { RequestContext } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'
import { StorageError } from '../storage/errors.js'

/**
 * Per-principal limits of the rule (SPEC §2 `limits`): request rate, daily input/output token
 * budgets and concurrent streams, counted in the shared store so replicas agree. Refused with 429
 * and `retry-after`. Output is reserved before the call (`max_tokens`, summed over a batch) and
 * settled when it ends: real usage (`usage` + `usage.iterations`) for a call that completed, the
 * whole reservation for one the client left or the upstream broke (docs/approvals.md).
 */
export const limit = (limiter: Limiter, limitsOf: (rule: string) => LimitsConfig | undefined): Stage =>
  async function limit(ctx, next) {
    const rule = ctx.decision?.rule
    const principal = ctx.decision?.principal
    const limits = rule === undefined ? undefined : limitsOf(rule)
    if (!limits || rule === undefined || principal === undefined) return next()
    const subject = { principal, rule }
    const streaming = typeof ctx.json === 'object' && ctx.json !== null && (ctx.json as { stream?: unknown }).stream === true
    let verdict: LimitVerdict
    try {
      verdict = await limiter.checkBefore(subject, limits, { streaming, outputReservation: outputReservation(ctx) })
    } catch (error) {
      if (error instanceof StorageError) throw new GatewayError('GW_LIMITS_UNAVAILABLE', { detail: error.message, cause: error })
      throw error
    }
    if (!verdict.ok) {
      const code = verdict.limit.endsWith('PerDay') ? 'GW_LIMIT_BUDGET' : 'GW_LIMIT_RATE'
      throw new GatewayError(code, { publicDetail: `rule ${rule}; ${verdict.limit} is ${verdict.max}`, headers: { 'retry-after': String(verdict.retryAfterSeconds) } })
    }
    // A client that leaves mid-stream frees its slot at once, not after the interrupted record's
    // commit further down: reconnecting right away then finds the slot it gave up (release is idempotent).
    const releaseOnLeave = verdict.slot === null ? undefined : () => void limiter.release(verdict.slot)
    if (releaseOnLeave !== undefined) ctx.signal.addEventListener('abort', releaseOnLeave, { once: true })
    try {
      await next()
    } finally {
      if (releaseOnLeave !== undefined) ctx.signal.removeEventListener('abort', releaseOnLeave)
      const billed = billedTokens(ctx.usage)
      // Both ride the store's next group commit: the slot is not held back behind the usage write.
      await Promise.all([
        limiter
          .settle(subject, limits, verdict.reservation, { inputTokens: billed.input, outputTokens: billed.output, chargeReservation: mayHaveRunUnseen(ctx) })
          .catch((error: unknown) => ctx.log.error({ detail: (error as Error).message }, 'usage could not be counted')),
        limiter.release(verdict.slot),
      ])
    }
  }

/** The output tokens the call may produce: `max_tokens` of each body that runs the model. */
function outputReservation(ctx: RequestContext): number {
  const bodies = ctx.facts?.bodies ?? []
  return bodies.reduce((sum, body) => sum + (body.executes && body.maxTokens !== undefined && body.maxTokens > 0 ? body.maxTokens : 0), 0)
}

/**
 * The upstream accepted the call but the gateway did not see it finish (client gone, stream cut,
 * a failure after the headers), or it runs later out of sight (a batch): the model may produce
 * every reserved token.
 */
function mayHaveRunUnseen(ctx: RequestContext): boolean {
  const status = ctx.response?.status
  if (status === undefined || status >= 300) return false
  return ctx.endpoint?.name === 'batches' || ctx.outcome !== 'completed' || ctx.signal.aborted
}
