import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { GatewayError } from '../errors/gateway-error.js'
import { newRequestId } from '../observability/request-id.js'
import { hasRole, type Authenticator } from './auth.js'
import { describeZodError, invalid, sendFailure, toPublicFailure } from './errors.js'
import { discardBody, queryObject, readJsonBody, sendJson } from './http.js'
import type { Router } from './router.js'
import type { Caller, Role, RouteDef } from './types.js'

const anonymous: Caller = { kind: 'anonymous', id: 'anonymous', roles: new Set() }

export type Handle = (req: IncomingMessage, res: ServerResponse, path: string, search: string) => Promise<void>

/**
 * One admin call, in order: route (404/405) → authenticate (401) → role (403) → query and body
 * validation (400/413) → handler → JSON reply, or the Anthropic-shaped error. One log line per call,
 * naming the actor by its safe id, never the credential.
 */
export function createDispatcher(router: Router, auth: Authenticator, logger: Logger): Handle {
  return async function adminRequest(req, res, path, search) {
    const requestId = newRequestId()
    const started = performance.now()
    const abort = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) abort.abort()
    })
    let caller = anonymous
    let route: RouteDef | undefined
    try {
      const match = router.match(req.method ?? 'GET', path)
      route = match.def
      if (route.roles !== 'public') {
        caller = await auth.authenticate(req)
        authorize(caller, route.roles)
      }
      const query = parseQuery(route, search)
      const body = route.body ? route.body.parse(await readJsonBody(req)) : discardBody(req)
      const reply = await route.handle({ req, res, requestId, caller, params: match.params, query, body, signal: abort.signal })
      if (reply !== 'streamed') sendJson(res, reply.status, reply.body, requestId)
    } catch (error) {
      fail(logger, res, error, requestId, caller)
    } finally {
      const ms = Math.round(performance.now() - started)
      logger.info({ reqId: requestId, method: req.method, path, route: route?.path, status: res.statusCode, actor: caller.id, ms }, 'admin request')
    }
  }
}

function fail(logger: Logger, res: ServerResponse, error: unknown, requestId: string, caller: Caller): void {
  const failure = toPublicFailure(error)
  if (failure.status >= 500) logger.error({ reqId: requestId, code: failure.code, err: failure.cause, actor: caller.id }, 'admin request failed')
  else logger.info({ reqId: requestId, code: failure.code, detail: failure.message, actor: caller.id }, 'admin request refused')
  // A stream that fails after its status line can only be cut; the client sees a truncated body.
  if (res.headersSent) return void res.destroy()
  discardBody(res.req)
  sendFailure(res, failure, requestId)
}

function authorize(caller: Caller, allowed: readonly Role[]): void {
  if (hasRole(caller, allowed)) return
  const held = [...caller.roles].join(', ') || 'none'
  throw new GatewayError('GW_ADMIN_ROLE_DENIED', {
    publicDetail: `this route needs role ${allowed.join(' or ')}; the credential has ${held}`,
    headers: { 'skillgate-required-role': allowed.join(',') },
  })
}

function parseQuery(route: RouteDef, search: string): unknown {
  const raw = queryObject(search)
  if (!route.query) {
    const extra = Object.keys(raw)
    if (extra.length > 0) throw invalid(`query parameter "${extra[0]}" is not accepted by this route`)
    return {}
  }
  const parsed = route.query.safeParse(raw)
  if (!parsed.success) throw invalid(describeZodError(parsed.error))
  return parsed.data
}
