import { ciSource, type Approvals, type CiSource, type FingerprintEntry, type GateResult } from '../approvals/index.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { ApprovalNote } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'
import type { RequestFacts } from '../policy/request-facts.js'
import { StorageError } from '../storage/errors.js'
import { namedFacts, skillName } from './audit-facts.js'

/**
 * Rules with `approval.required` (SPEC §2, §4): a live just-in-time grant lets the request through
 * (one use taken); otherwise a review is opened (or joined, for a retry of the same request). With
 * `hold` the request waits, bounded, and goes through the moment a human approves; the client going
 * away cancels the wait. Otherwise it is a 403 naming the review and how to approve it.
 *
 * Runs after the request guard and the limits, so a request they refuse never takes a grant's use.
 * Whatever the outcome, the review is noted on the context before anything else runs, so the audit
 * record links the call to its review (and through it to the grant and the approver).
 */
export const approve = (approvals: Approvals): Stage =>
  async function approve(ctx, next) {
    const decision = ctx.decision
    const claims = ctx.identity?.claims ?? {}
    if (!decision || decision.effect !== 'allow') return next()
    // Most rules need no approval: skip building the review's summary (facts, CI source) for them.
    if (decision.rule !== undefined && !approvals.settingsFor(decision.rule).required) return next()
    const named = namedFacts(ctx.facts)
    let gate: GateResult
    try {
      gate = await approvals.gate(
        {
          decision,
          requester: { issuer: String(claims.iss ?? ''), subject: String(claims.sub ?? '') },
          summary: { endpoint: ctx.endpoint?.name ?? 'unknown', model: named.model ?? null, skills: named.skills, tools: named.tools, requestId: ctx.id, ...withSource(claims) },
          entries: fingerprintEntries(ctx.facts),
        },
        { signal: ctx.signal },
      )
    } catch (error) {
      if (error instanceof StorageError) throw new GatewayError('GW_APPROVALS_UNAVAILABLE', { detail: error.message, cause: error })
      throw error
    }
    if (gate.kind === 'not_required') return next()
    const { reviewId, note } = approvalNote(gate)
    ctx.reviewId = reviewId
    ctx.approval = note
    if (gate.kind === 'granted') return next()
    const headers = { 'skillgate-review-id': reviewId }
    if (gate.kind === 'denied') {
      throw new GatewayError('GW_AUTHZ_APPROVAL_DENIED', { publicDetail: `rule ${decision.rule}; ${note.detail}`, headers })
    }
    throw new GatewayError('GW_AUTHZ_APPROVAL_REQUIRED', {
      publicDetail: `rule ${decision.rule}; review ${reviewId} is pending: an approver runs "skillgate reviews approve ${reviewId}" (or approves it in the console), then retry`,
      headers,
    })
  }

/** Each body's own facts (each batch entry), for the review's fingerprint: every model it can run, advisors and fallbacks included. */
function fingerprintEntries(facts: RequestFacts | undefined): FingerprintEntry[] {
  return (facts?.bodies ?? []).map((body) => ({
    model: [body.model ?? '', ...body.otherModels.map((use) => use.model)].join(' '),
    skills: body.skills.map(skillName),
    tools: [...body.tools],
    mcpServers: body.mcpServers.map((server) => server.url),
  }))
}

function withSource(claims: Readonly<Record<string, unknown>>): { source?: CiSource } {
  const source = ciSource(claims)
  return source === undefined ? {} : { source }
}

/** The review behind a gate's outcome and one sentence for the record (and, for a denial, the job). */
export function approvalNote(gate: Exclude<GateResult, { kind: 'not_required' }>): { reviewId: string; note: ApprovalNote } {
  if (gate.kind === 'granted') {
    const { grant } = gate
    const uses = grant.usesLeft === null ? 'unlimited uses' : `${grant.usesLeft} use${grant.usesLeft === 1 ? '' : 's'} left`
    return { reviewId: grant.reviewId, note: { state: 'granted', detail: `review ${grant.reviewId} approved by ${grant.approver}; grant ${grant.id} (${uses})` } }
  }
  const { review } = gate
  if (gate.kind === 'denied') {
    const by = review.approver === null ? '' : ` by ${review.approver}`
    const why = review.reason ? `: ${JSON.stringify(review.reason)}` : ' (no reason given)'
    return { reviewId: review.id, note: { state: 'denied', detail: `review ${review.id} was denied${by}${why}` } }
  }
  const waited = gate.waited === 'no_hold' ? '' : ` (hold ended: ${gate.waited})`
  return { reviewId: review.id, note: { state: 'pending', detail: `review ${review.id} is ${review.state}${waited}` } }
}
