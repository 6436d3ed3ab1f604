import { GatewayError } from '../errors/gateway-error.js'
import type { Limiter, LimitsConfig } from '../limits/index.js'
import type { Stage } from '../pipeline/stage.js'
import { StorageError } from '../storage/errors.js'

/**
 * Per-principal limits of the rule (SPEC §2 `limits`): request rate, daily input/output token
 * budgets and concurrent streams, counted in the shared store so replicas agree. Refused with 429
 * and `retry-after`. Budgets are checked before the call; the usage of a call is recorded when it
 * ends (a call that crosses a budget finishes, the next one is refused).
 */
export const limit = (limiter: Limiter, limitsOf: (rule: string) => LimitsConfig | undefined): Stage =>
  async function limit(ctx, next) {
    const rule = ctx.decision?.rule
    const principal = ctx.decision?.principal
    const limits = rule === undefined ? undefined : limitsOf(rule)
    if (!limits || rule === undefined || principal === undefined) return next()
    const subject = { principal, rule }
    const streaming = typeof ctx.json === 'object' && ctx.json !== null && (ctx.json as { stream?: unknown }).stream === true
    let verdict
    try {
      verdict = await limiter.checkBefore(subject, limits, { streaming })
    } catch (error) {
      if (error instanceof StorageError) throw new GatewayError('GW_LIMITS_UNAVAILABLE', { detail: error.message, cause: error })
      throw error
    }
    if (!verdict.ok) {
      const code = verdict.limit.endsWith('PerDay') ? 'GW_LIMIT_BUDGET' : 'GW_LIMIT_RATE'
      throw new GatewayError(code, { publicDetail: `rule ${rule}; ${verdict.limit} is ${verdict.max}`, headers: { 'retry-after': String(verdict.retryAfterSeconds) } })
    }
    try {
      await next()
    } finally {
      const usage = ctx.usage ?? {}
      const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
      await limiter
        .recordUsage(subject, limits, {
          inputTokens: n(usage.input_tokens),
          outputTokens: n(usage.output_tokens),
          cacheCreationInputTokens: n(usage.cache_creation_input_tokens),
          cacheReadInputTokens: n(usage.cache_read_input_tokens),
        })
        .catch((error: unknown) => ctx.log.error({ detail: (error as Error).message }, 'usage could not be counted'))
      await limiter.release(verdict.slot)
    }
  }
