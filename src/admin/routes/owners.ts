import { z } from 'zod'
import { performAction } from '../actions.js'
import { ADMIN_ONLY, defineRoute } from '../router.js'
import { ref } from '../schemas.js'
import type { AdminApiDeps, RouteDef } from '../types.js'
import { ownedKinds, type OwnedKind } from '../../ownership/kinds.js'

/**
 * `/admin/api/owners`: names the owner of an upstream object created before the gateway kept
 * owners (or one whose owner could not be recorded). Until then the object is refused to everyone
 * (404): nobody's object is handed to a principal by guesswork.
 */

const assignBody = z.strictObject({
  kind: z.enum(ownedKinds as [OwnedKind, ...OwnedKind[]]),
  id: z.string().min(1).max(512),
  principal: z.string().min(1).max(512),
  /** Optional: the rule the object was created under, for the record. */
  rule: z.string().min(1).max(200).optional(),
  reason: z.string().min(1).max(1_000).optional(),
})

export function ownerRoutes(deps: AdminApiDeps): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/api/owners',
      tag: 'owners',
      roles: ADMIN_ONLY,
      summary: 'Assign an upstream object (batch, file, container, skill, skill_version SKILL/VERSION, or a Managed Agents agent, environment, session, deployment, deployment_run, vault, memory_store, tunnel) to a principal, replacing any owner',
      body: assignBody,
      responses: { 200: { description: 'In force at once at every replica', schema: ref('OwnerAssignment') } },
      async handle(ctx) {
        const { kind, id, principal, rule, reason } = ctx.body
        // Recorded before it takes effect (issue #16): no audit opening, no change.
        const previous = await performAction(deps, ctx, 'owner.assign', { kind, id, principal }, reason, async () => {
          const before = await deps.storage.owners.assign({ kind, id }, { principal, rule: rule ?? null }, ctx.caller.id)
          return { result: before, target: { kind, id, principal, ...(before ? { previous: before.principal } : {}) } }
        })
        return { status: 200, body: { kind, id, principal, rule: rule ?? null, previous: previous?.principal ?? null } }
      },
    }),
  ]
}
