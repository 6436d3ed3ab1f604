import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Prometheus metrics of one gateway instance (its own registry, so tests can run several). */
export interface GatewayMetrics {
  readonly registry: Registry
  readonly requests: Counter<'endpoint' | 'status' | 'decision'>
  readonly duration: Histogram<'endpoint'>
  readonly upstreamFirstByte: Histogram<'endpoint'>
  readonly maskHits: Counter<'detector' | 'direction'>
  /** Requests refused before an identity was verified (no, bad or expired token, malformed request, address over its cap). */
  readonly unauthenticatedRefusals: Counter<'code'>
  /** Connections closed on arrival because `listen.maxConnections` were open. */
  readonly connectionsDropped: Counter
  readonly errors: ErrorCounters
}

/**
 * Failures that happen away from any request (timers, background refreshes, deliveries) and so
 * never reach a client: each is logged and counted here, so an operator can alert on them.
 */
export interface ErrorCounters {
  readonly storage: Counter<'op'>
  readonly audit: Counter<'op'>
  readonly auditSink: Counter<'sink'>
  readonly auditTimestamp: Counter
  readonly notify: Counter
  readonly secretFile: Counter
  readonly revocationRefresh: Counter
  readonly approvals: Counter
  readonly streamSlots: Counter
  readonly upstreamFederation: Counter
  readonly routes: Counter<'route'>
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
    unauthenticatedRefusals: new Counter({
      name: 'skillgate_unauthenticated_refusals_total',
      help: 'Requests on /v1/* and POST /v1/oauth/token refused before an identity was verified, by gateway error code (exchange:<reason> for the token endpoint); each counted, whether or not it got its own audit record.',
      labelNames: ['code'],
      registers: [registry],
    }),
    connectionsDropped: new Counter({
      name: 'skillgate_connections_dropped_total',
      help: 'Client connections closed on arrival because listen.maxConnections were already open.',
      registers: [registry],
    }),
    errors: createErrorCounters(registry),
  }
}

function createErrorCounters(registry: Registry): ErrorCounters {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: `skillgate_${name}_errors_total`, help, labelNames, registers: [registry] })
  return {
    storage: counter('storage', 'Store failures outside a request: writer-lease renewal (lease), health checks (health), gateway signing keys (gateway-keys), console session clean-up (sessions), review notifications (postgres-listen).', ['op']),
    audit: counter('audit', 'Audit records not written: begin/complete (writer), exchange, admin, mark_interrupted, prune.', ['op']),
    auditTimestamp: counter('audit_timestamp', 'Signed audit heads that went out without an RFC 3161 timestamp (TSA unreachable, refused, or an answer that did not verify).'),
    auditSink: counter('audit_sink', 'Audit sink deliveries given up (webhook) or writes that failed (jsonl).', ['sink']),
    notify: counter('notify', 'Notification webhook deliveries given up after their retries.'),
    secretFile: counter('secret_file', 'Failed re-reads of a rotated fromFile secret (the last good value stays in use).'),
    revocationRefresh: counter('revocation_refresh', 'Failed refreshes of the revocation list from the store.'),
    approvals: counter('approvals', 'Failed approvals housekeeping (expiring reviews and grants).'),
    streamSlots: counter('stream_slot', 'Failed renewals or releases of concurrent-stream slots.'),
    upstreamFederation: counter('upstream_federation', 'Failed exchanges of the gateway workload token for an upstream token.'),
    routes: counter('route', 'Handlers outside the pipeline (token exchange, JWKS, admin API, console, ops) that failed with a 500.', ['route']),
  }
}
