import type { IncomingMessage, ServerResponse } from 'node:http'
import { createAuthenticator } from './auth.js'
import { createDispatcher } from './dispatch.js'
import { createLogin } from './login.js'
import { buildOpenApi, type OpenApiDocument } from './openapi.js'
import { createRouter, defineRoute } from './router.js'
import { auditRoutes } from './routes/audit.js'
import { configRoutes } from './routes/config.js'
import { grantRoutes } from './routes/grants.js'
import { healthRoutes } from './routes/health.js'
import { policyRoutes } from './routes/policy.js'
import { principalRoutes } from './routes/principals.js'
import { revocationRoutes } from './routes/revocations.js'
import { ownerRoutes } from './routes/owners.js'
import { reviewRoutes } from './routes/reviews.js'
import { sessionRoutes } from './routes/sessions.js'
import { createSlackInteractions } from './slack/interactions.js'
import type { AdminApiDeps, RouteDef } from './types.js'

export type { Actor, AdminAction, AdminApiDeps, Caller, ExplainFn, HumanVerifier, Role, RoleMap, RouteDef, SlackApprover } from './types.js'
export type { SlackApp } from './slack/interactions.js'
export type { OpenApiDocument } from './openapi.js'
export type { AdminErrorCode } from './errors.js'

export interface AdminApi {
  /** Serves one request whose pathname starts with `/admin/api/`; `search` is the query string (with or without `?`). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void>
  /** The OpenAPI 3.1 document of every route (also served at `/admin/api/openapi.json`). */
  readonly openapi: OpenApiDocument
  /** The route table the router dispatches (what the OpenAPI document describes). */
  readonly routes: readonly RouteDef[]
  /** `POST /admin/slack/interactions`: Approve/Deny clicks of the Slack apps in `deps.slack` (404 without one). */
  slackInteractions(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** `GET /admin/login/<issuer id>` and `/admin/login/callback`: browser sign-in (admin.issuers[].login). */
  login(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void>
  /** Stops following rotated admin token files. */
  close(): void
}

/**
 * The admin REST API (SPEC §3 `/admin/api/*`): authentication, role checks, validation and the
 * error shape in `dispatch.ts`; each resource's routes in `routes/`. Reuses domain modules and
 * storage ports, never data-plane stages. Throws at construction on misconfiguration.
 *
 * @example
 * const admin = createAdminApi({ config, adminTokens: config.secrets.adminTokens, storage, revocations, policy,
 *   issuersHealth: () => verifier.health(), logger })
 * if (path.startsWith('/admin/api/')) return admin.handle(req, res, path, search)
 */
export function createAdminApi(deps: AdminApiDeps): AdminApi {
  const auth = createAuthenticator(deps.config, deps.adminTokens, deps.humans, deps.onSecretError, deps.sessions)
  const routes: RouteDef[] = [
    ...auditRoutes(deps),
    ...revocationRoutes(deps),
    ...ownerRoutes(deps),
    ...principalRoutes(deps),
    ...policyRoutes(deps),
    ...configRoutes(deps),
    ...healthRoutes(deps),
    ...reviewRoutes(deps),
    ...grantRoutes(deps),
    ...sessionRoutes(deps),
    defineRoute({
      method: 'GET',
      path: '/admin/api/openapi.json',
      tag: 'meta',
      roles: 'public',
      summary: 'This OpenAPI 3.1 document',
      responses: { 200: { description: 'The document', schema: { type: 'object' } } },
      handle: async () => ({ status: 200, body: openapi }),
    }),
  ]
  const openapi = buildOpenApi(routes, '1.0.0')
  const handle = createDispatcher(createRouter(routes), auth, deps.logger)
  const slackInteractions = createSlackInteractions(deps, deps.slack ?? [])
  const login = createLogin({ config: deps.config, sessions: deps.storage.sessions, logger: deps.logger })
  return { handle, openapi, routes, slackInteractions, login, close: () => auth.close() }
}
