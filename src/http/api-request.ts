import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Tracer } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { GatewayError } from '../errors/gateway-error.js'
import { asGatewayError, sendError } from '../errors/to-response.js'
import type { GatewayMetrics } from '../observability/metrics.js'
import { newRequestId } from '../observability/request-id.js'
import { endRequestSpan } from '../observability/tracing.js'
import type { RequestContext } from '../pipeline/context.js'
import type { AnonymousGate } from './unauthenticated-cap.js'

/**
 * The one spelling of a `/v1` path: segments of URL path characters, none empty (`//`, a trailing
 * `/`) or a dot segment, and no `%` at all. Anything else could name the same endpoint another way
 * (`/v1/messages/batches/` once skipped every body check) or be read differently by the upstream.
 */
const canonicalSegment = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/

export function isCanonicalApiPath(path: string): boolean {
  const segments = path.split('/')
  if (segments[0] !== '' || segments[1] !== 'v1' || segments.length < 3) return false
  return segments.slice(2).every((segment) => canonicalSegment.test(segment) && segment !== '.' && segment !== '..')
}

export interface ApiRequestDeps {
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  /** OpenTelemetry tracer (none when tracing is off). */
  readonly tracer?: Tracer | undefined
  /** True once a drain began: new requests are refused with 503. */
  readonly draining: () => boolean
  /** Who the client is (`listen.trustedProxies`) and its `listen.unauthenticatedPerMinute` budget. */
  readonly anonymous: AnonymousGate
}

/**
 * One `/v1/*` request through `run` (the composed pipeline it started with): request id, abort on
 * client disconnect, the error response, then metrics, the access log line and the trace span.
 */
export async function handleApiRequest(
  deps: ApiRequestDeps,
  run: (ctx: RequestContext) => Promise<void>,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
): Promise<void> {
  const ctx = newContext(deps.logger, req, res, path, search, deps.anonymous.addressOf(req))
  const span = deps.tracer?.startSpan('skillgate.request', { attributes: { 'http.request.method': ctx.method, 'url.path': path } })
  try {
    if (deps.draining()) throw new GatewayError('GW_SHUTTING_DOWN', { headers: { connection: 'close' } })
    if (!isCanonicalApiPath(path)) throw new GatewayError('GW_REQUEST_BAD_PATH')
    const retryAfter = deps.anonymous.retryAfter(ctx.clientAddress)
    if (retryAfter > 0) throw new GatewayError('GW_LIMIT_UNAUTHENTICATED', { headers: { 'retry-after': String(retryAfter) } })
    await run(ctx)
  } catch (error) {
    failRequest(ctx, error)
  } finally {
    countUnauthenticated(deps, ctx)
    observe(deps.metrics, ctx)
    if (span) endRequestSpan(span, spanFacts(ctx))
  }
}

/**
 * A refusal before any identity was verified is counted (metric) and charged to the client address
 * (its per-minute cap). Requests over the cap are counted but not logged: the one line saying the
 * address reached its cap stands for them.
 */
function countUnauthenticated(deps: ApiRequestDeps, ctx: RequestContext): void {
  const code = ctx.errorCode
  if (code === undefined || ctx.identity !== undefined || ctx.outgoing.statusCode >= 500) return
  deps.anonymous.refused(ctx.clientAddress, code)
}

function newContext(logger: Logger, req: IncomingMessage, res: ServerResponse, path: string, search: string, clientAddress: string): RequestContext {
  const id = newRequestId()
  const abort = new AbortController()
  res.on('close', () => {
    if (!res.writableFinished) abort.abort()
  })
  return {
    id,
    startedAt: performance.now(),
    method: req.method ?? 'GET',
    path,
    search,
    clientAddress,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    incoming: req,
    outgoing: res,
    signal: abort.signal,
    log: logger.child({ reqId: id }),
  }
}

function failRequest(ctx: RequestContext, error: unknown): void {
  const failure = asGatewayError(error)
  ctx.errorCode = failure.code
  if (failure.status >= 500) ctx.log.error({ code: failure.code, detail: failure.detail, err: failure.cause }, 'request failed')
  else if (failure.code !== 'GW_LIMIT_UNAUTHENTICATED') ctx.log.info({ code: failure.code, detail: failure.detail }, 'request refused')
  if (!ctx.outgoing.headersSent) sendError(ctx.outgoing, failure, ctx.id)
  else ctx.outgoing.destroy()
  ctx.outcome ??= ctx.signal.aborted ? 'interrupted' : failure.status < 500 ? 'denied' : 'error'
}

function observe(metrics: GatewayMetrics, ctx: RequestContext): void {
  const endpoint = ctx.endpoint?.name ?? 'unknown'
  const status = ctx.outgoing.statusCode
  const seconds = (performance.now() - ctx.startedAt) / 1000
  metrics.requests.inc({ endpoint, status: String(status), decision: ctx.decision?.effect ?? 'none' })
  metrics.duration.observe({ endpoint }, seconds)
  if (ctx.upstreamSentAt !== undefined && ctx.upstreamHeadersAt !== undefined) {
    metrics.upstreamFirstByte.observe({ endpoint }, (ctx.upstreamHeadersAt - ctx.upstreamSentAt) / 1000)
  }
  for (const [direction, hits] of [['request', ctx.requestMaskHits], ['response', ctx.responseMaskHits]] as const) {
    for (const [detector, count] of Object.entries(hits ?? {})) metrics.maskHits.inc({ detector, direction }, count)
  }
  // An address over its unauthenticated cap gets no line per request (countUnauthenticated logs one).
  if (ctx.errorCode === 'GW_LIMIT_UNAUTHENTICATED') return
  ctx.log.info(
    {
      method: ctx.method,
      path: ctx.path,
      client: ctx.clientAddress,
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

function spanFacts(ctx: RequestContext): Parameters<typeof endRequestSpan>[1] {
  return {
    endpoint: ctx.endpoint?.name ?? 'unknown',
    status: ctx.outgoing.statusCode,
    outcome: ctx.outcome ?? 'completed',
    rule: ctx.decision?.rule,
    principal: ctx.decision?.principal,
    decision: ctx.decision?.effect,
    issuer: ctx.identity?.issuerId,
    upstreamFirstByteMs: ctx.upstreamHeadersAt !== undefined && ctx.upstreamSentAt !== undefined ? Math.round(ctx.upstreamHeadersAt - ctx.upstreamSentAt) : undefined,
    errorCode: ctx.errorCode,
  }
}
