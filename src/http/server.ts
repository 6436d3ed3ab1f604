import { createServer, type Server, type ServerOptions } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Tracer } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { GatewayError } from '../errors/gateway-error.js'
import { errorBody, sendError } from '../errors/to-response.js'
import type { GatewayMetrics } from '../observability/metrics.js'
import { newRequestId } from '../observability/request-id.js'
import { compose } from '../pipeline/compose.js'
import type { RequestContext } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'
import { handleApiRequest } from './api-request.js'
import { clientAddresses } from './client-address.js'
import { createLifecycle, type Lifecycle } from './lifecycle.js'
import { handleOps, type Readiness } from './ops.js'
import { destinationOf, splitTarget, type RouteMatch, type Routes } from './routing.js'
import { anonymousGate, unauthenticatedCap, type AnonymousGate } from './unauthenticated-cap.js'

export type { Readiness } from './ops.js'
export type { RouteHandler, Routes } from './routing.js'

export interface ServerDeps {
  readonly metrics: GatewayMetrics
  readonly logger: Logger
  /** OpenTelemetry tracer (none when tracing is off). */
  readonly tracer?: Tracer | undefined
  /** The `listen` section: timeouts, caps and trusted proxies (milliseconds for durations). */
  readonly limits: ServerLimits
  /** Wall clock in ms (tests move it); default Date.now. */
  readonly now?: () => number
}

/** What bounds a client's hold on the server (`listen.*`, docs/config.md). */
export interface ServerLimits {
  readonly headersTimeout: number
  readonly requestTimeout: number
  readonly maxConnections: number
  readonly unauthenticatedPerMinute: number
  readonly trustedProxies: readonly string[]
}

export interface GatewayServer {
  readonly server: Server
  /** In-flight requests and the drain. */
  readonly lifecycle: Lifecycle
  /** Starts listening; resolves with `http://host:port`. Until `mount`, /v1 answers 503 "starting". */
  listen(port: number, host: string): Promise<string>
  /** Routes outside the pipeline and the readiness check; called once the gateway is built. */
  mount(routes: Routes, readiness: () => Readiness): void
  /** Swaps the pipeline (configuration reload); requests in flight finish on the one they started with. */
  setPipeline(pipeline: readonly Stage[]): void
  /** The per-address cap on unauthenticated refusals, for routes outside the pipeline. */
  readonly anonymous: AnonymousGate
}

/** Answers 503 "starting" until the pipeline is ready (the listener opens first to learn its URL). */
const notStarted = async (): Promise<void> => {
  throw new GatewayError('GW_STARTING')
}

/** One node:http server: routes, `/v1/*` through the pipeline, and the ops endpoints. */
export function createGatewayServer(deps: ServerDeps): GatewayServer {
  let run: (ctx: RequestContext) => Promise<void> = notStarted
  let routes: Routes = {}
  let readiness: (() => Readiness) | undefined
  const server = createServer(serverOptions(deps.limits), (req, res) => {
    const { path, search } = splitTarget(req.url ?? '/')
    const destination = destinationOf(routes, req.method ?? 'GET', path)
    if (destination.kind === 'route') lifecycle.track(runRoute(destination.route, req, res, path, search))
    else if (destination.kind === 'api') lifecycle.track(handleApiRequest(apiDeps, run, req, res, path, search))
    else void handleOps(opsDeps, req, res, path).catch((error: unknown) => routeFailed('ops', error, res))
  })
  // Past the cap node closes a new connection at once, before reading a byte from it.
  server.maxConnections = deps.limits.maxConnections
  server.on('drop', () => deps.metrics.connectionsDropped.inc())
  const lifecycle = createLifecycle(server, deps.logger)
  const anonymous = anonymousGate({
    clients: clientAddresses(deps.limits.trustedProxies),
    cap: unauthenticatedCap(deps.limits.unauthenticatedPerMinute),
    refusals: deps.metrics.unauthenticatedRefusals,
    logger: deps.logger,
    now: deps.now ?? Date.now,
  })
  const apiDeps = { ...deps, draining: () => lifecycle.draining, anonymous }
  const opsDeps = { metrics: deps.metrics, readiness: () => readiness?.(), leaving: () => lifecycle.leaving }
  server.on('clientError', answerUnparsable)

  function runRoute(route: RouteMatch, ...args: Parameters<RouteMatch['handler']>): Promise<void> {
    if (isAdminRoute(route.name) && capped(args[0], args[1])) return Promise.resolve()
    return route.handler(...args).catch((error: unknown) => routeFailed(route.name, error, args[1]))
  }

  /**
   * The admin API, the console's sign-in and Slack's interactions share `/v1`'s per-address budget
   * of unauthenticated refusals: each 401 they answer counts, and past the cap the address gets 429
   * before any credential is read, so guessing admin tokens or flooding the log costs a map lookup.
   * True when the request was refused here.
   */
  function capped(req: Parameters<RouteMatch['handler']>[0], res: Parameters<RouteMatch['handler']>[1]): boolean {
    const address = anonymous.addressOf(req)
    const wait = anonymous.retryAfter(address)
    if (wait > 0) {
      anonymous.refused(address, 'GW_LIMIT_UNAUTHENTICATED')
      req.resume()
      sendError(res, new GatewayError('GW_LIMIT_UNAUTHENTICATED', { headers: { 'retry-after': String(wait) } }), newRequestId())
      return true
    }
    res.once('finish', () => {
      if (res.statusCode === 401) anonymous.refused(address, 'admin:401')
    })
    return false
  }

  function routeFailed(name: string, error: unknown, res: Parameters<typeof sendError>[0]): void {
    deps.metrics.errors.routes.inc({ route: name })
    deps.logger.error({ err: error, route: name }, 'route failed')
    if (!res.headersSent) sendError(res, new GatewayError('GW_INTERNAL'), newRequestId())
    else res.destroy()
  }

  return {
    server,
    lifecycle,
    listen: (port, host) => listen(server, port, host),
    mount(nextRoutes, nextReadiness) {
      routes = nextRoutes
      readiness = nextReadiness
    },
    setPipeline(pipeline) {
      run = compose(pipeline)
    },
    anonymous,
  }
}

/** Routes registered under `/admin/` (by prefix, or exactly as "METHOD /admin/…"). */
const isAdminRoute = (name: string): boolean => name.startsWith('/admin/') || name.includes(' /admin/')

/**
 * `requestTimeout: 0` would also switch off node's headers timeout (it defaults to the smaller of
 * the two), so both are explicit. Node checks them on a timer; checking at a quarter of the headers
 * timeout keeps the overshoot small without a timer per connection.
 */
function serverOptions(limits: ServerLimits): ServerOptions {
  return {
    noDelay: true,
    keepAliveTimeout: 65_000,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(limits.headersTimeout / 4))),
  }
}

/** Node's refusals of a request it could not parse or receive in time still get Anthropic's error shape. */
function unparsableFailure(error: NodeJS.ErrnoException): GatewayError {
  if (error.code === 'HPE_HEADER_OVERFLOW') return new GatewayError('GW_REQUEST_HEADERS_TOO_LARGE')
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new GatewayError('GW_REQUEST_TIMEOUT')
  return new GatewayError('GW_REQUEST_UNPARSABLE')
}

const reasonPhrases: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/** Requests node's parser refuses (oversized headers, bad framing, too slow) still get Anthropic's error shape. */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already on this connection (e.g. one that said Connection: close): nothing may follow it.
  const current = (socket as unknown as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
  if (!socket.writable || current?.headersSent) {
    socket.destroy()
    return
  }
  const failure = unparsableFailure(error)
  const id = newRequestId()
  const body = errorBody(failure, id)
  socket.end(
    `HTTP/1.1 ${failure.status} ${reasonPhrases[failure.status] ?? 'Bad Request'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nskillgate-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
  )
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${shown}:${address.port}`
}
