import { GatewayError } from '../../errors/gateway-error.js'
import { performAction } from '../actions.js'
import { ADMIN_ONLY, READ, defineRoute, param } from '../router.js'
import { csrfTokenFor, digestOf, sessionCookie, sessionCookieHeader } from '../sessions.js'
import type { AdminApiDeps, RouteDef } from '../types.js'

/**
 * `/admin/api/session` (who am I, and the CSRF token for this console session), sign-out, and the
 * admins' list of console sessions with revocation (issue #17 item 1).
 */
export function sessionRoutes(deps: AdminApiDeps): RouteDef[] {
  const store = deps.storage.sessions
  const secure = (req: { headers: Record<string, unknown> }) => req.headers['x-forwarded-proto'] === 'https' || deps.config.gatewayTokens.issuer?.startsWith('https:') === true
  const sso = deps.config.admin.issuers.filter((i) => i.login !== undefined).map((i) => ({ id: i.id, url: `/admin/login/${encodeURIComponent(i.id)}` }))
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/sign-in',
      tag: 'sessions',
      roles: 'public',
      summary: 'How people can sign in to the console: the single sign-on issuers (admin.issuers[].login)',
      responses: { 200: { description: 'The sign-in options', schema: { type: 'object' } } },
      handle: async () => ({ status: 200, body: { sso } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/session',
      tag: 'sessions',
      roles: READ,
      summary: 'Who is calling (person or token, roles), and for a console session its CSRF token',
      responses: { 200: { description: 'The caller', schema: { type: 'object' } } },
      async handle({ caller, req }) {
        const cookie = caller.kind === 'oidc' && !req.headers.authorization ? sessionCookie(req) : undefined
        const { kind, id, name, email } = caller
        return { status: 200, body: { actor: { kind, id, name: name ?? null, email: email ?? null }, roles: [...caller.roles], csrfToken: cookie === undefined ? null : csrfTokenFor(cookie) } }
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/api/session/logout',
      tag: 'sessions',
      roles: READ,
      summary: 'Sign out: ends this console session on every replica and clears its cookie',
      responses: { 204: { description: 'Signed out' } },
      async handle({ req, res }) {
        const cookie = sessionCookie(req)
        if (cookie !== undefined) await store.revokeByDigest(digestOf(cookie))
        res.setHeader('set-cookie', sessionCookieHeader(undefined, secure(req)))
        return { status: 204 }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/sessions',
      tag: 'sessions',
      roles: ADMIN_ONLY,
      summary: 'Console sessions in force, newest first',
      responses: { 200: { description: 'The sessions', schema: { type: 'object' } } },
      async handle() {
        // The role basis is the gateway's own bookkeeping, not something an admin acts on.
        const sessions = (await store.list()).map(({ roleBasis: _basis, ...shown }) => shown)
        return { status: 200, body: { sessions } }
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/api/sessions/{id}',
      tag: 'sessions',
      roles: ADMIN_ONLY,
      summary: 'End a console session at once, on every replica',
      responses: { 204: { description: 'Ended' } },
      async handle(ctx) {
        const id = param(ctx, 'id')
        // Recorded before it takes effect (issue #16), like every admin change.
        await performAction(deps, ctx, 'session.revoke', { session: id }, undefined, async () => {
          if (!(await store.revoke(id))) throw new GatewayError('GW_NOT_FOUND', { publicDetail: `no session ${id}` })
          return { result: undefined, target: { session: id } }
        })
        return { status: 204 }
      },
    }),
  ]
}
