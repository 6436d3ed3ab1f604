import type { Limiter, LimitsConfig } from '../limits/index.js'
import { StorageError } from '../storage/errors.js'
import type { McpCaller } from './caller.js'

export type LimitCheck = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly retryAfterSeconds: number }

/** Whether one more tool call of this caller fits the rule's `limits`; rejects with `LimitsUnavailable` when the store is down. */
export type ToolCallLimits = (caller: McpCaller) => Promise<LimitCheck>

export class LimitsUnavailable extends Error {}

/**
 * The rule's `limits` for MCP tool calls (docs/mcp.md): a call runs no model, so of the rule's limits
 * only `requestsPerMinute` applies (token budgets and `concurrentStreams` count model tokens and
 * streams). It is the same counter as `/v1` (same rule and principal, through the shared Limiter), so a
 * principal's tool calls and API requests share one rate, on every replica. Refused calls count too,
 * as on `/v1`: hammering a full window gains nothing.
 *
 * @example toolCallLimits(limiter, (rule) => rules.get(rule)?.limits)(caller) // { ok: false, retryAfterSeconds: 41, message: 'rate limit reached: rule ci; requestsPerMinute is 2 (…): retry after 41 s' }
 */
export function toolCallLimits(limiter: Limiter, limitsOf: (rule: string) => LimitsConfig | undefined): ToolCallLimits {
  return async function checkToolCall(caller) {
    const requestsPerMinute = limitsOf(caller.ruleName)?.requestsPerMinute
    if (requestsPerMinute === undefined) return { ok: true }
    let verdict: Awaited<ReturnType<Limiter['checkBefore']>>
    try {
      verdict = await limiter.checkBefore({ principal: caller.principal, rule: caller.ruleName }, { requestsPerMinute }, { streaming: false })
    } catch (error) {
      // Fail closed, as the /v1 limit stage does.
      if (error instanceof StorageError) throw new LimitsUnavailable(error.message)
      throw error
    }
    if (verdict.ok) return { ok: true }
    return { ok: false, retryAfterSeconds: verdict.retryAfterSeconds, message: `rate limit reached: rule ${caller.ruleName}; ${verdict.limit} is ${verdict.max} (tool calls and /v1 requests together): retry after ${verdict.retryAfterSeconds} s` }
  }
}
