import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import { sendError } from '../errors/to-response.js'
import type { GatewayMetrics } from '../observability/metrics.js'
import { newRequestId } from '../observability/request-id.js'

export interface Readiness {
  readonly ready: boolean
  readonly checks: Record<string, unknown>
}

export interface OpsDeps {
  readonly metrics: GatewayMetrics
  /** Undefined until the gateway has mounted its pipeline: /readyz says "starting". */
  readonly readiness: () => Readiness | undefined
  /** True once a drain began: /readyz turns 503 while requests are still served. */
  readonly leaving: () => boolean
}

/** `/healthz` (process alive), `/readyz` (send traffic here?), `/metrics` (Prometheus); anything else 404. */
export async function handleOps(deps: OpsDeps, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok' })
  if (path === '/readyz') return sendReadiness(deps, res)
  if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
    const text = await deps.metrics.registry.metrics()
    res.writeHead(200, { 'content-type': deps.metrics.registry.contentType })
    res.end(text)
    return
  }
  sendError(res, new GatewayError('GW_NOT_FOUND'), newRequestId())
}

function sendReadiness(deps: OpsDeps, res: ServerResponse): void {
  const readiness = deps.readiness()
  if (!readiness) return sendJson(res, 503, { status: 'starting' })
  const leaving = deps.leaving()
  const ready = readiness.ready && !leaving
  sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : leaving ? 'draining' : 'not ready', ...readiness.checks })
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}
