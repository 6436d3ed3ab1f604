import { z } from 'zod'
import { performAction } from '../actions.js'
import { APPROVALS, defineRoute, param } from '../router.js'
import { cursorParam, limitParam, ref } from '../schemas.js'
import type { AdminApiDeps, RouteDef } from '../types.js'

/** `/admin/api/grants*`: just-in-time grants created by approvals. */

const listQuery = z.strictObject({
  principal: z.string().min(1).optional(),
  rule: z.string().min(1).optional(),
  active: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  limit: limitParam(1000, 50),
  cursor: cursorParam,
})

export function grantRoutes(deps: AdminApiDeps): RouteDef[] {
  const store = deps.storage.grants
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/grants',
      tag: 'grants',
      roles: APPROVALS,
      summary: 'Grants, newest first (active=true: usable now)',
      query: listQuery,
      responses: { 200: { description: 'One page of grants', schema: ref('GrantPage') } },
      async handle({ query }) {
        return { status: 200, body: await store.list(query) }
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/api/grants/{id}',
      tag: 'grants',
      roles: APPROVALS,
      summary: 'Revoke a grant at once (idempotent)',
      responses: { 200: { description: 'The revoked grant', schema: ref('Grant') } },
      async handle(ctx) {
        const id = param(ctx, 'id')
        const grant = await performAction(deps, ctx, 'grant.revoke', { grant: id }, undefined, async () => {
          const revoked = await store.revoke(id, ctx.caller.id)
          return { result: revoked, target: { grant: revoked.id, principal: revoked.principal, rule: revoked.rule } }
        })
        return { status: 200, body: grant }
      },
    }),
  ]
}
