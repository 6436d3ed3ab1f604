import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Prometheus metrics of one gateway instance (its own registry, so tests can run several). */
export interface GatewayMetrics {
  readonly registry: Registry
  readonly requests: Counter<'endpoint' | 'status' | 'decision'>
  readonly duration: Histogram<'endpoint'>
  readonly upstreamFirstByte: Histogram<'endpoint'>
  readonly maskHits: Counter<'detector' | 'direction'>
}

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export function createMetrics(): GatewayMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'skillgate_' })
  return {
    registry,
    requests: new Counter({
      name: 'skillgate_requests_total',
      help: 'Requests on /v1/* by endpoint, final status and policy decision (allow, deny, none when it ended before policy).',
      labelNames: ['endpoint', 'status', 'decision'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'skillgate_request_duration_seconds',
      help: 'Time from request arrival until the last byte of the response was written.',
      labelNames: ['endpoint'],
      buckets,
      registers: [registry],
    }),
    upstreamFirstByte: new Histogram({
      name: 'skillgate_upstream_first_byte_seconds',
      help: 'Time from sending upstream until the upstream response headers arrived.',
      labelNames: ['endpoint'],
      buckets,
      registers: [registry],
    }),
    maskHits: new Counter({
      name: 'skillgate_mask_hits_total',
      help: 'Values masked (response) or masked out of requests (request), by detector.',
      labelNames: ['detector', 'direction'],
      registers: [registry],
    }),
  }
}
