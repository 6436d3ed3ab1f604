import type { Logger } from 'pino'
import type { Approvals } from '../approvals/index.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import { createGatewayServer } from '../http/server.js'
import type { GatewayTokens } from '../identity/gateway-token.js'
import type { TokenVerifier } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Notifier } from '../notify/index.js'
import { createLogger } from '../observability/logger.js'
import { createMetrics } from '../observability/metrics.js'
import { createTracing } from '../observability/tracing.js'
import type { Policy } from '../policy/compile.js'
import type { Storage } from '../storage/ports.js'
import { createErrorReports } from './error-reports.js'
import { openGatewayTokensFor } from './exchange.js'
import { buildGeneration } from './generation.js'
import { HEAP_GROWING_PERCENT, tuneHeapGrowth } from './heap.js'
import { compileRules } from './policy-and-masking.js'
import { DEFAULT_RELOAD_GRACE_MS, holdGenerations } from './reload.js'
import { adminRoutes, dataPlaneElsewhere, gatewayReadiness, gatewayRoutes } from './server.js'
import { openSharedParts } from './shared.js'

export interface Gateway {
  /** `http://host:port` it listens on. */
  readonly url: string
  /** Where the console and the admin API are: the `admin.listen` listener's URL, else `url`. */
  readonly adminUrl: string
  /** The configuration in force (changes on a successful reload). */
  readonly config: Config
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly audit: { readonly storage: Storage; readonly writer: AuditWriter | undefined }
  readonly revocations: RevocationCache
  readonly gatewayTokens: GatewayTokens
  readonly approvals: Approvals
  readonly notifier: Notifier
  /**
   * Applies a new configuration's issuers, rules, skills and masking without a restart; requests
   * in flight finish under the old one, whose parts close once they have. Parts that need a restart
   * (listen, upstream, storage, audit, gatewayTokens, admin) are reported in the returned list and
   * keep their running values.
   */
  reload(next: Config): Promise<{ restartNeeded: string[] }>
  /** Graceful: `listen.shutdownDelay`, then waits for streams in flight up to `listen.drainTimeout` (or `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>
}

export interface StartOptions {
  readonly logger?: Logger
  /** Overrides `listen.port` (tests use 0). */
  readonly port?: number
  /** Overrides `admin.listen.port` when `admin.listen` is set (tests use 0). */
  readonly adminPort?: number
  /** Longest a replaced configuration stays open for its requests in flight; default 10 minutes (tests set it short). */
  readonly reloadGraceMs?: number
}

/**
 * The composition root: builds every part from the frozen config, in dependency order, and starts
 * listening. Misconfiguration fails here, at boot; rules and masking fail before anything opens.
 */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger()
  if (tuneHeapGrowth()) logger.debug({ heapGrowingPercent: HEAP_GROWING_PERCENT }, 'V8 heap growth set to twice the live heap (no heap flag given)')
  const rules = compileRules(config)
  const metrics = createMetrics()
  const reports = createErrorReports(metrics, logger)
  const tracing = await createTracing(config.tracing && { otlpUrl: config.tracing.otlp.url, serviceName: config.tracing.serviceName, sampleRatio: config.tracing.sampleRatio })
  const parts = await openSharedParts(config, logger, reports)
  // The listener opens before the pipeline exists: the gateway-token issuer defaults to its URL.
  const http = createGatewayServer({ metrics, logger, tracer: tracing.tracer, limits: config.listen })
  const url = await http.listen(options.port ?? config.listen.port, config.listen.host)
  const gatewayTokens = await openGatewayTokensFor(config, url, parts.storage, reports)
  const shared = { ...parts, gatewayTokens, anonymous: http.anonymous }
  const generations = holdGenerations(await buildGeneration(config, rules, shared), {
    settledInFlight: () => http.lifecycle.settledInFlight(),
    graceMs: options.reloadGraceMs ?? DEFAULT_RELOAD_GRACE_MS,
    install: (generation) => http.setPipeline(generation.pipeline),
    logger,
  })
  const adminApart = config.admin.listen !== undefined
  const adminHttp = adminApart ? createGatewayServer({ metrics, logger, limits: config.listen }) : undefined
  async function shutdown(timeoutMs: number, delayMs: number): Promise<void> {
    parts.stopRefreshing()
    await Promise.all([http.lifecycle.drain(timeoutMs, delayMs), adminHttp?.lifecycle.drain(timeoutMs, delayMs)])
    generations.closeAll()
    await parts.close()
    gatewayTokens.close()
    await tracing.shutdown()
  }
  const readiness = gatewayReadiness({ ...parts, generations, upstreamCredential: parts.credentialHealth })
  http.mount(gatewayRoutes(generations, gatewayTokens, { adminApart, auditSigning: parts.auditSigning }), readiness)
  let adminUrl = url
  if (adminHttp && config.admin.listen) {
    adminHttp.setPipeline([dataPlaneElsewhere])
    adminHttp.mount(adminRoutes(generations), readiness)
    adminUrl = await adminHttp.listen(options.adminPort ?? config.admin.listen.port, config.admin.listen.host).catch(async (error: unknown) => {
      // The public listener is already open: close everything built so far before refusing to start.
      await shutdown(0, 0)
      throw error
    })
  }
  logger.info({ url, adminUrl, config: config.source, gatewayIssuer: gatewayTokens.issuer }, 'skillgate listening')
  const live = () => generations.current
  return {
    url,
    adminUrl,
    get config() {
      return live().config
    },
    get verifier() {
      return live().verifier
    },
    get policy() {
      return live().policy
    },
    audit: { storage: parts.storage, writer: parts.audit },
    revocations: parts.revocations,
    gatewayTokens,
    get approvals() {
      return live().approvals
    },
    notifier: parts.notifier,
    async reload(next) {
      generations.replace(await buildGeneration(next, compileRules(next), shared))
      const restartNeeded = restartOnlyChanges(config, next)
      logger.info({ config: next.source, restartNeeded }, 'configuration reloaded')
      return { restartNeeded }
    },
    close: (timeoutMs = config.listen.drainTimeout) => shutdown(timeoutMs, timeoutMs === config.listen.drainTimeout ? config.listen.shutdownDelay : 0),
  }
}

/** Sections read only at start-up: a reload reports them instead of half-applying them. */
function restartOnlyChanges(running: Config, next: Config): string[] {
  const sections = ['listen', 'upstream', 'storage', 'audit', 'gatewayTokens', 'admin'] as const
  return sections.filter((key) => JSON.stringify(running[key]) !== JSON.stringify(next[key]))
}
