import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { GatewayError } from './errors/gateway-error.js'
import { asGatewayError, errorBody, sendError } from './errors/to-response.js'
import type { GatewayMetrics } from './observability/metrics.js'
import { newRequestId } from './observability/request-id.js'
import { endRequestSpan } from './observability/tracing.js'
import type { Tracer } from '@opentelemetry/api'
import { compose } from './pipeline/compose.js'
import type { RequestContext } from './pipeline/context.js'
import type { Stage } from './pipeline/stage.js'

export interface Readiness {
  readonly ready: boolean
  readonly checks: Record<string, unknown>
}

export interface ServerDeps {
  readonly pipeline: readonly Stage[]
  readonly metrics: GatewayMetrics
  readonly logger: Logger
  readonly readiness: () => Readiness
  /** OpenTelemetry tracer (a no-op one when tracing is off). */
  readonly tracer?: Tracer
}

/** A handler outside the pipeline (token exchange, JWKS, admin API); it writes its own response. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string, search: string) => Promise<void>

export interface Routes {
  /** By "METHOD /path". */
  readonly exact?: ReadonlyMap<string, RouteHandler>
  /** By path prefix (e.g. "/admin/api/"), any method. */
  readonly prefixes?: ReadonlyArray<readonly [string, RouteHandler]>
}

export interface GatewayServer {
  readonly server: Server
  /** Swaps the pipeline (configuration reload); requests in flight finish on the one they started with. */
  setPipeline(pipeline: readonly Stage[]): void
  setRoutes(routes: Routes): void
  /**
   * Answers /readyz with 503 for `delayMs` while still serving, then stops accepting, lets requests
   * and streams in flight finish up to `timeoutMs`, then cuts the rest.
   */
  drain(timeoutMs: number, delayMs?: number): Promise<void>
}

/** Dot segments, empty segments, encoded slashes or dots, backslashes: a path a proxy might reinterpret. */
const ambiguousPath = /(^|\/)\.{1,2}(\/|$)|\/\/|%2e|%2f|%5c|\\/i

/** Mounts `/v1/*` (the pipeline) and the health and metrics endpoints on one node:http server. */
export function createGatewayServer(deps: ServerDeps): GatewayServer {
  let run = compose(deps.pipeline)
  let routes: Routes = {}
  const routeFor = (method: string, path: string): RouteHandler | undefined =>
    routes.exact?.get(`${method} ${path}`) ?? routes.prefixes?.find(([prefix]) => path.startsWith(prefix))?.[1]
  let draining = false
  let leaving = false
  const inFlight = new Set<Promise<void>>()

  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const route = routeFor(req.method ?? 'GET', path)
    if (route) {
      const task = route(req, res, path, q === -1 ? '' : url.slice(q))
        .catch((error: unknown) => {
          deps.logger.error({ err: error, path }, 'route failed')
          if (!res.headersSent) sendError(res, new GatewayError('GW_INTERNAL'), newRequestId())
          else res.destroy()
        })
        .finally(() => inFlight.delete(task))
      inFlight.add(task)
      return
    }
    if (path.startsWith('/v1/')) {
      const task = handleApi(req, res, path, q === -1 ? '' : url.slice(q)).finally(() => inFlight.delete(task))
      inFlight.add(task)
      return
    }
    handleOps(req, res, path).catch((error) => {
      deps.logger.error({ err: error }, 'ops endpoint failed')
      if (!res.headersSent) sendError(res, new GatewayError('GW_INTERNAL'), newRequestId())
    })
  })

  // Requests node's parser refuses (oversized headers, bad framing) still get Anthropic's error shape.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // A response already on this connection (e.g. one that said Connection: close): nothing may follow it.
    const current = (socket as unknown as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
    if (!socket.writable || current?.headersSent) {
      socket.destroy()
      return
    }
    const failure = new GatewayError(error.code === 'HPE_HEADER_OVERFLOW' ? 'GW_REQUEST_HEADERS_TOO_LARGE' : 'GW_REQUEST_UNPARSABLE')
    const id = newRequestId()
    const body = errorBody(failure, id)
    socket.end(
      `HTTP/1.1 ${failure.status} ${failure.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nskillgate-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
    )
  })

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
    const id = newRequestId()
    const abort = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) abort.abort()
    })
    const ctx: RequestContext = {
      id,
      startedAt: performance.now(),
      method: req.method ?? 'GET',
      path,
      search,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      incoming: req,
      outgoing: res,
      signal: abort.signal,
      log: deps.logger.child({ reqId: id }),
    }
    const span = deps.tracer?.startSpan('skillgate.request', { attributes: { 'http.request.method': ctx.method, 'url.path': path } })
    try {
      if (draining) throw new GatewayError('GW_SHUTTING_DOWN', { headers: { connection: 'close' } })
      if (ambiguousPath.test(path)) throw new GatewayError('GW_REQUEST_BAD_PATH')
      await run(ctx)
    } catch (error) {
      failRequest(ctx, error)
    } finally {
      observe(ctx)
      if (span) {
        endRequestSpan(span, {
          endpoint: ctx.endpoint?.name ?? 'unknown',
          status: ctx.outgoing.statusCode,
          outcome: ctx.outcome ?? 'completed',
          rule: ctx.decision?.rule,
          principal: ctx.decision?.principal,
          decision: ctx.decision?.effect,
          issuer: ctx.identity?.issuerId,
          upstreamFirstByteMs: ctx.upstreamHeadersAt !== undefined && ctx.upstreamSentAt !== undefined ? Math.round(ctx.upstreamHeadersAt - ctx.upstreamSentAt) : undefined,
          errorCode: ctx.errorCode,
        })
      }
    }
  }

  function failRequest(ctx: RequestContext, error: unknown): void {
    const failure = asGatewayError(error)
    ctx.errorCode = failure.code
    if (failure.status >= 500) ctx.log.error({ code: failure.code, detail: failure.detail, err: failure.cause }, 'request failed')
    else ctx.log.info({ code: failure.code, detail: failure.detail }, 'request refused')
    if (!ctx.outgoing.headersSent) sendError(ctx.outgoing, failure, ctx.id)
    else ctx.outgoing.destroy()
    ctx.outcome ??= ctx.signal.aborted ? 'interrupted' : failure.status < 500 ? 'denied' : 'error'
  }

  function observe(ctx: RequestContext): void {
    const endpoint = ctx.endpoint?.name ?? 'unknown'
    const status = ctx.outgoing.statusCode
    const seconds = (performance.now() - ctx.startedAt) / 1000
    deps.metrics.requests.inc({ endpoint, status: String(status), decision: ctx.decision?.effect ?? 'none' })
    deps.metrics.duration.observe({ endpoint }, seconds)
    if (ctx.upstreamSentAt !== undefined && ctx.upstreamHeadersAt !== undefined) {
      deps.metrics.upstreamFirstByte.observe({ endpoint }, (ctx.upstreamHeadersAt - ctx.upstreamSentAt) / 1000)
    }
    for (const [direction, hits] of [['request', ctx.requestMaskHits], ['response', ctx.responseMaskHits]] as const) {
      for (const [detector, count] of Object.entries(hits ?? {})) deps.metrics.maskHits.inc({ detector, direction }, count)
    }
    ctx.log.info(
      {
        method: ctx.method,
        path: ctx.path,
        endpoint,
        status,
        outcome: ctx.outcome ?? 'completed',
        ms: Math.round(seconds * 1000),
        issuer: ctx.identity?.issuerId,
        rule: ctx.decision?.rule,
        principal: ctx.decision?.principal,
      },
      'request',
    )
  }

  async function handleOps(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' })
    if (path === '/readyz') {
      const readiness = deps.readiness()
      const ready = readiness.ready && !leaving
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : leaving ? 'draining' : 'not ready', ...readiness.checks })
    }
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      const text = await deps.metrics.registry.metrics()
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType })
      res.end(text)
      return
    }
    sendError(res, new GatewayError('GW_NOT_FOUND'), newRequestId())
  }

  async function drain(timeoutMs: number, delayMs = 0): Promise<void> {
    // First only /readyz turns 503, so load balancers stop sending before the listener closes.
    leaving = true
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    draining = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref())
    const outcome = await Promise.race([Promise.allSettled([...inFlight]).then(() => 'done' as const), deadline])
    if (outcome === 'timeout') deps.logger.warn({ inFlight: inFlight.size }, 'drain timeout: closing remaining connections')
    server.closeAllConnections()
    await closed
  }

  return {
    server,
    drain,
    setPipeline(pipeline) {
      run = compose(pipeline)
    },
    setRoutes(next) {
      routes = next
    },
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}
