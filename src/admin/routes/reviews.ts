import { z } from 'zod'
import { ApprovalError } from '../../approvals/index.js'
import { GatewayError } from '../../errors/gateway-error.js'
import type { Review } from '../../storage/ports.js'
import { performAction } from '../actions.js'
import { AdminError } from '../errors.js'
import { APPROVALS, defineRoute, param } from '../router.js'
import { cursorParam, limitParam, ref } from '../schemas.js'
import type { AdminApiDeps, RouteContext, RouteDef } from '../types.js'

/**
 * `/admin/api/reviews*`: the approval queue. Decisions go through the approvals domain
 * (`deps.approvals.decide`) with the caller's id, roles and, for humans, token iss/sub: it applies
 * the rule's `approvers` roles (default `approver`; an admin is not an approver unless it also holds
 * the role), creates the grant, and refuses self-approval. This module maps its refusals to HTTP.
 */

const listQuery = z.strictObject({
  state: z.enum(['pending', 'approved', 'denied', 'expired']).optional(),
  principal: z.string().min(1).optional(),
  rule: z.string().min(1).optional(),
  limit: limitParam(1000, 50),
  cursor: cursorParam,
})
const decisionBody = z.strictObject({ reason: z.string().min(1).max(1_000).optional() })
type DecisionBody = z.output<typeof decisionBody>
type Decide = 'approved' | 'denied'

export function reviewRoutes(deps: AdminApiDeps): RouteDef[] {
  const store = deps.storage.reviews
  const decide = (decision: Decide) => (ctx: RouteContext<Record<string, never>, DecisionBody>) => decideReview(deps, ctx, decision)
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/reviews',
      tag: 'reviews',
      roles: APPROVALS,
      summary: 'The approval queue, newest first (state=pending for what waits)',
      query: listQuery,
      responses: { 200: { description: 'One page of reviews', schema: ref('ReviewPage') } },
      async handle({ query }) {
        return { status: 200, body: await store.list(query) }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/reviews/{id}',
      tag: 'reviews',
      roles: APPROVALS,
      summary: 'One review',
      responses: { 200: { description: 'The review', schema: ref('Review') } },
      async handle(ctx) {
        return { status: 200, body: await getReview(deps, param(ctx, 'id')) }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/api/reviews/{id}/approve',
      tag: 'reviews',
      roles: APPROVALS,
      summary: "Approve a pending review: creates a just-in-time grant for its principal and rule (needs one of the rule's approvers roles)",
      body: decisionBody,
      responses: { 200: { description: 'The decided review and its grant', schema: ref('ReviewDecision') } },
      handle: decide('approved'),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/api/reviews/{id}/deny',
      tag: 'reviews',
      roles: APPROVALS,
      summary: "Deny a pending review (needs one of the rule's approvers roles)",
      body: decisionBody,
      responses: { 200: { description: 'The decided review', schema: ref('ReviewDecision') } },
      handle: decide('denied'),
    }),
  ]
}

async function getReview(deps: AdminApiDeps, id: string): Promise<Review> {
  const review = await deps.storage.reviews.get(id)
  if (!review) throw new GatewayError('GW_NOT_FOUND', { publicDetail: `no review ${id}` })
  return review
}

async function decideReview(deps: AdminApiDeps, ctx: RouteContext<Record<string, never>, DecisionBody>, decision: Decide) {
  const id = param(ctx, 'id')
  const { caller } = ctx
  const reason = ctx.body.reason
  const approver = { id: caller.id, name: caller.name, roles: [...caller.roles], issuer: caller.issuer, subject: caller.subject }
  const result = await performAction(deps, ctx, decision === 'approved' ? 'review.approve' : 'review.deny', { review: id }, reason, async () => {
    const decided = await deps.approvals.decide(id, { decision, approver, reason }).catch(async (error: unknown) => {
      throw await refusal(deps, id, error)
    })
    const { review, grant } = decided
    return { result: decided, target: { review: review.id, principal: review.principal, rule: review.rule, ...(grant ? { grant: grant.id } : {}) } }
  })
  return { status: 200, body: result }
}

/** The approvals domain's refusals as HTTP (src/approvals/errors.ts names the mapping). */
async function refusal(deps: AdminApiDeps, id: string, error: unknown): Promise<unknown> {
  if (!(error instanceof ApprovalError)) return error
  switch (error.code) {
    case 'not_found':
      return new GatewayError('GW_NOT_FOUND', { publicDetail: `no review ${id}` })
    case 'not_pending':
      return new AdminError('GW_ADMIN_CONFLICT', error.message)
    case 'self_approval':
      return new AdminError('GW_ADMIN_SELF_APPROVAL', error.message)
    case 'not_approver': {
      const review = await deps.storage.reviews.get(id)
      const roles = review ? deps.approvals.settingsFor(review.rule).approverRoles : []
      return new GatewayError('GW_ADMIN_ROLE_DENIED', { publicDetail: error.message, headers: { 'skillgate-required-role': roles.join(',') } })
    }
  }
}
