import { READ, defineRoute } from '../router.js'
import { ref } from '../schemas.js'
import type { AdminApiDeps, RouteDef } from '../types.js'

/** `GET /admin/api/health`: workload and admin issuers' key sets, and the store. */
export function healthRoutes(deps: AdminApiDeps): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/health',
      tag: 'health',
      roles: READ,
      summary: 'Issuers (key sets loaded, degraded, unavailable) and the store',
      responses: { 200: { description: 'Health; `ok` is false when the store or an issuer is unavailable', schema: ref('Health') } },
      async handle() {
        const storage = await deps.storage.health().catch((error: unknown) => ({ ok: false, detail: (error as Error).message }))
        const issuers = deps.issuersHealth()
        const adminIssuers = deps.humans?.verifier.health() ?? []
        const ok = storage.ok && issuers.every((issuer) => issuer.state !== 'unavailable')
        return { status: 200, body: { ok, storage: { kind: deps.storage.kind, ...storage }, issuers, adminIssuers } }
      },
    }),
  ]
}
