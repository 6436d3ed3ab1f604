import { z } from 'zod'
import { now, performAction } from '../actions.js'
import { invalid } from '../errors.js'
import { ADMIN_ONLY, READ, defineRoute, param } from '../router.js'
import { isoDate, ref } from '../schemas.js'
import type { AdminApiDeps, RouteDef } from '../types.js'

/** `/admin/api/revocations*`. Every change refreshes the data plane's cache, so it applies on the next call. */

const reason = z.string().min(1).max(1_000).optional()
const revokeBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('principal'), principal: z.string().min(1), before: isoDate.optional(), reason }),
  z.strictObject({ kind: z.literal('token'), iss: z.string().min(1), jti: z.string().min(1), until: isoDate.optional(), reason }),
  z.strictObject({ kind: z.literal('issuer'), issuer: z.string().min(1), reason }),
])
type RevokeBody = z.output<typeof revokeBody>

/** A token revocation outlives any token the gateway accepts (`maxLifetime` is minutes); a day is ample. */
const defaultTokenRevocationMs = 86_400_000

export function revocationRoutes(deps: AdminApiDeps): RouteDef[] {
  const store = deps.storage.revocations
  // SAML issuers are first-class: disabling one refuses its assertions and every gateway token minted from them.
  const issuerIds = new Set([...deps.config.issuers.map((issuer) => issuer.id), ...deps.config.samlIssuers.map((saml) => saml.id)])
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/revocations',
      tag: 'revocations',
      roles: READ,
      summary: 'Revocations in force, newest first',
      responses: { 200: { description: 'The list', schema: ref('RevocationList') } },
      async handle() {
        return { status: 200, body: { revocations: await store.list() } }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/api/revocations',
      tag: 'revocations',
      roles: ADMIN_ONLY,
      summary: 'Revoke a principal (tokens issued before a time), one token (iss, jti) or a whole issuer',
      body: revokeBody,
      responses: { 201: { description: 'In force now in this gateway, within about a second everywhere', schema: ref('RevocationResult') } },
      async handle(ctx) {
        const { body } = ctx
        const intended = body.kind === 'principal' ? { principal: body.principal } : body.kind === 'token' ? { iss: body.iss, jti: body.jti } : { issuer: body.issuer }
        const { version, target } = await performAction(deps, ctx, `revocation.${body.kind}`, intended, body.reason, async () => {
          const applied = await applyRevocation(deps, body, ctx.caller.id, issuerIds)
          await deps.revocations.refresh()
          return { result: applied, target: applied.target }
        })
        return { status: 201, body: { version, kind: body.kind, ...target } }
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/api/revocations/principal/{principal}',
      tag: 'revocations',
      roles: ADMIN_ONLY,
      summary: 'Lift a principal revocation (percent-encode the principal: ci%3A1234567%2F77)',
      responses: { 200: { description: 'Lifted', schema: ref('RevocationResult') } },
      async handle(ctx) {
        const principal = param(ctx, 'principal')
        const version = await performAction(deps, ctx, 'revocation.principal.lift', { principal }, undefined, async () => {
          const result = await store.liftPrincipal(principal)
          await deps.revocations.refresh()
          return { result, target: { principal } }
        })
        return { status: 200, body: { version, kind: 'principal', principal } }
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/api/revocations/issuer/{issuer}',
      tag: 'revocations',
      roles: ADMIN_ONLY,
      summary: 'Enable a disabled issuer again',
      responses: { 200: { description: 'Enabled', schema: ref('RevocationResult') } },
      async handle(ctx) {
        const issuer = param(ctx, 'issuer')
        const version = await performAction(deps, ctx, 'revocation.issuer.enable', { issuer }, undefined, async () => {
          const result = await store.enableIssuer(issuer)
          await deps.revocations.refresh()
          return { result, target: { issuer } }
        })
        return { status: 200, body: { version, kind: 'issuer', issuer } }
      },
    }),
  ]
}

/** Writes one revocation; returns the store version and what was revoked (for the reply and the event). */
async function applyRevocation(deps: AdminApiDeps, body: RevokeBody, actor: string, issuerIds: ReadonlySet<string>) {
  const store = deps.storage.revocations
  const meta = { actor, ...(body.reason === undefined ? {} : { reason: body.reason }) }
  if (body.kind === 'principal') {
    const before = body.before ?? now(deps)
    return { version: await store.revokePrincipal(body.principal, before, meta), target: { principal: body.principal, before: before.toISOString() } }
  }
  if (body.kind === 'token') {
    const until = body.until ?? new Date(now(deps).getTime() + defaultTokenRevocationMs)
    return { version: await store.revokeToken(body.iss, body.jti, until, meta), target: { iss: body.iss, jti: body.jti, until: until.toISOString() } }
  }
  // A typo would disable nothing while looking like it worked: only configured issuers.
  if (!issuerIds.has(body.issuer)) throw invalid(`field "issuer": no issuer "${body.issuer}" in issuers[] or samlIssuers[]`)
  return { version: await store.disableIssuer(body.issuer, meta), target: { issuer: body.issuer } }
}
