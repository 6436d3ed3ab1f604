import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'

/**
 * Optional OpenTelemetry traces (`tracing:` in the config): one span per `/v1` request, with the
 * endpoint, rule, decision, status, outcome and the upstream's first-byte time, exported over
 * OTLP/HTTP in batches. Spans never carry a token, a prompt or a response; the principal is an id.
 * Without `tracing:` the tracer is the API's no-op and costs nothing measurable.
 */
export interface Tracing {
  readonly tracer: Tracer
  /** Exports what is buffered and stops (graceful shutdown). */
  shutdown(): Promise<void>
}

export interface TracingOptions {
  readonly otlpUrl: string
  readonly serviceName: string
  readonly sampleRatio: number
  /** For tests: an exporter instead of OTLP/HTTP. */
  readonly exporter?: SpanExporter
}

/** The SDK and exporter load only when `tracing:` is configured: most gateways never pay their memory. */
export async function createTracing(options: TracingOptions | undefined): Promise<Tracing> {
  if (!options) return { tracer: trace.getTracer('skillgate'), shutdown: async () => undefined }
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BasicTracerProvider, BatchSpanProcessor, TraceIdRatioBasedSampler }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ])
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: options.otlpUrl })
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new TraceIdRatioBasedSampler(options.sampleRatio),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
  })
  return { tracer: provider.getTracer('skillgate'), shutdown: () => provider.shutdown() }
}

export interface RequestSpanFacts {
  readonly endpoint: string
  readonly status: number
  readonly outcome: string
  readonly rule?: string | undefined
  readonly principal?: string | undefined
  readonly decision?: string | undefined
  readonly issuer?: string | undefined
  readonly upstreamFirstByteMs?: number | undefined
  readonly errorCode?: string | undefined
}

/** Ends a request span with what the gateway decided; a 5xx of the gateway marks the span an error. */
export function endRequestSpan(span: Span, facts: RequestSpanFacts): void {
  span.setAttributes({
    'http.response.status_code': facts.status,
    'skillgate.endpoint': facts.endpoint,
    'skillgate.outcome': facts.outcome,
    ...(facts.rule ? { 'skillgate.rule': facts.rule } : {}),
    ...(facts.principal ? { 'skillgate.principal': facts.principal } : {}),
    ...(facts.decision ? { 'skillgate.decision': facts.decision } : {}),
    ...(facts.issuer ? { 'skillgate.issuer': facts.issuer } : {}),
    ...(facts.upstreamFirstByteMs !== undefined ? { 'skillgate.upstream.first_byte_ms': facts.upstreamFirstByteMs } : {}),
    ...(facts.errorCode ? { 'skillgate.error.code': facts.errorCode } : {}),
  })
  if (facts.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, ...(facts.errorCode ? { message: facts.errorCode } : {}) })
  span.end()
}
