import type { Approvals, FingerprintEntry } from '../approvals/index.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { Stage } from '../pipeline/stage.js'
import type { RequestFacts } from '../policy/request-facts.js'
import { StorageError } from '../storage/errors.js'
import { namedFacts, skillName } from './audit-facts.js'

/**
 * Rules with `approval.required` (SPEC §2, §4): a live just-in-time grant lets the request through
 * (one use taken); otherwise a review is opened (or joined, for a retry of the same request). With
 * `hold` the request waits, bounded, and goes through the moment a human approves; the client going
 * away cancels the wait. Otherwise it is a 403 naming the review and how to approve it.
 */
export const approve = (approvals: Approvals): Stage =>
  async function approve(ctx, next) {
    const decision = ctx.decision
    const claims = ctx.identity?.claims ?? {}
    if (!decision || decision.effect !== 'allow') return next()
    const named = namedFacts(ctx.facts)
    let gate
    try {
      gate = await approvals.gate(
        {
          decision,
          requester: { issuer: String(claims.iss ?? ''), subject: String(claims.sub ?? '') },
          summary: { endpoint: ctx.endpoint?.name ?? 'unknown', model: named.model ?? null, skills: named.skills, tools: named.tools, requestId: ctx.id },
          entries: fingerprintEntries(ctx.facts),
        },
        { signal: ctx.signal },
      )
    } catch (error) {
      if (error instanceof StorageError) throw new GatewayError('GW_APPROVALS_UNAVAILABLE', { detail: error.message, cause: error })
      throw error
    }
    if (gate.kind === 'not_required' || gate.kind === 'granted') return next()
    const id = gate.review.id
    ctx.reviewId = id
    const headers = { 'skillgate-review-id': id }
    if (gate.kind === 'denied') {
      throw new GatewayError('GW_AUTHZ_APPROVAL_DENIED', { publicDetail: `rule ${decision.rule}; review ${id} was denied`, headers })
    }
    throw new GatewayError('GW_AUTHZ_APPROVAL_REQUIRED', {
      publicDetail: `rule ${decision.rule}; review ${id} is pending: an approver runs "skillgate reviews approve ${id}" (or approves it in the console), then retry`,
      headers,
    })
  }

/** Each body's own facts (each batch entry), for the review's fingerprint. */
function fingerprintEntries(facts: RequestFacts | undefined): FingerprintEntry[] {
  return (facts?.bodies ?? []).map((body) => ({
    model: body.model,
    skills: body.skills.map(skillName),
    tools: [...body.tools],
    mcpServers: [...body.mcpServers],
  }))
}
