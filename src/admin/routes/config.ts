import { READ, defineRoute } from '../router.js'
import { redactConfig } from '../redact-config.js'
import { ref } from '../schemas.js'
import type { AdminApiDeps, RouteDef } from '../types.js'

/** `GET /admin/api/config`: the running configuration, secrets hidden. */
export function configRoutes(deps: AdminApiDeps): RouteDef[] {
  // The config is frozen: the view is computed once.
  const view = redactConfig(deps.config)
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/config',
      tag: 'config',
      roles: READ,
      summary: 'The running configuration with every secret shown as [redacted]',
      responses: { 200: { description: 'The parsed configuration (durations in ms, sizes in bytes)', schema: ref('ConfigView') } },
      async handle() {
        return { status: 200, body: view }
      },
    }),
  ]
}
