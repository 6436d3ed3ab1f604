import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'
import type { Logger } from 'pino'
import { openAuditRuntime, type AuditRuntime } from './audit-runtime.js'
import type { Config } from './config/load.js'
import type { IssuerConfig } from './config/schema.js'
import { createTokenVerifier, type IssuerSpec, type TokenVerifier } from './identity/index.js'
import { openRevocationCache, type RevocationCache } from './identity/revocation-cache.js'
import { cacheVerifications } from './identity/verified-cache.js'
import { buildMasking, type Masking } from './masking-setup.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'
import { createTracing } from './observability/tracing.js'
import { buildPipeline } from './pipeline/index.js'
import { compilePolicy, type Policy } from './policy/compile.js'
import { createContainerOwners } from './policy/container-owners.js'
import { createGatewayServer, type GatewayServer } from './server.js'
import { GatewayError } from './errors/gateway-error.js'
import { openExchange } from './exchange-runtime.js'
import { createMemoryMintedStore } from './exchange/memory-minted-store.js'
import { createAdminApi, type AdminApi } from './admin/index.js'
import { recordAdminActions } from './admin-actions.js'
import type { AuditWriter } from './audit/writer.js'
import { createApprovals, type Approvals } from './approvals/index.js'
import { createLimiter } from './limits/index.js'
import { createNotifier, type Notifier } from './notify/index.js'
import type { Storage } from './storage/ports.js'
import { routeGatewayTokens } from './identity/gateway-token-verifier.js'
import type { GatewayTokens } from './identity/gateway-token.js'
import type { Stage } from './pipeline/stage.js'
import type { CredentialProvider } from './stages/inject-credential.js'
import { createConsoleHandler, defaultConsoleRoot } from './ui/console-handler.js'
import { createUpstreamClient } from './upstream/client.js'
import { createUpstreamFederation } from './upstream/federation.js'

export interface Gateway {
  /** `http://host:port` it listens on. */
  readonly url: string
  /** The configuration in force (changes on a successful reload). */
  readonly config: Config
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly audit: AuditRuntime
  readonly revocations: RevocationCache
  readonly gatewayTokens: GatewayTokens
  readonly approvals: Approvals
  readonly notifier: Notifier
  /**
   * Applies a new configuration's issuers, rules, skills and masking without a restart; requests
   * in flight finish under the old one. Parts that need a restart (listen, upstream, storage,
   * audit) are reported in the returned list and keep their running values.
   */
  reload(next: Config): Promise<{ restartNeeded: string[] }>
  /** Graceful: `listen.shutdownDelay`, then waits for streams in flight up to `listen.drainTimeout` (or `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>
}

export interface StartOptions {
  readonly logger?: Logger
  /** Overrides `listen.port` (tests use 0). */
  readonly port?: number
}

/** What a reload replaces: everything derived from issuers, rules, skills and masking. */
interface Reloadable {
  readonly config: Config
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly masking: Masking
  readonly approvals: Approvals
  readonly admin: AdminApi
  readonly adminVerifier: TokenVerifier | undefined
}

interface Shared {
  readonly storage: Storage
  readonly notifier: Notifier
  readonly logger: Logger
  readonly revocations: RevocationCache
  readonly audit: AuditWriter | undefined
}

async function buildReloadable(config: Config, gatewayTokens: GatewayTokens, shared: Shared): Promise<Reloadable> {
  const policy = compilePolicy(config.rules, config.skills)
  const masking = buildMasking(config)
  const workload = createTokenVerifier(config.issuers.map(toIssuerSpec), {
    cacheMaxAgeMs: config.keySets.maxAge,
    cooldownMs: config.keySets.cooldown,
    fetchTimeoutMs: config.keySets.fetchTimeout,
  })
  await workload.warmUp()
  const approvals = createApprovals({
    reviews: shared.storage.reviews,
    grants: shared.storage.grants,
    rules: config.rules,
    onEvent: (event) => shared.notifier.publish(event),
    onError: (error) => shared.logger.error({ detail: error.message }, 'approvals housekeeping failed'),
  })
  const verifier = cacheVerifications(routeGatewayTokens(workload, gatewayTokens))
  const adminVerifier = config.admin.issuers.length > 0 ? createTokenVerifier(config.admin.issuers.map(toIssuerSpec)) : undefined
  await adminVerifier?.warmUp()
  const admin = createAdminApi({
    config,
    adminTokens: config.secrets.adminTokens,
    humans: adminVerifier && { verifier: adminVerifier, roleClaims: new Map(config.admin.issuers.map((i) => [i.id, i.roleClaim])) },
    storage: shared.storage,
    revocations: shared.revocations,
    approvals,
    policy,
    issuersHealth: () => workload.health(),
    logger: shared.logger.child({ component: 'admin' }),
    onAdminAction: recordAdminActions(shared),
  })
  return { config, verifier, policy, masking, approvals, admin, adminVerifier }
}

function closeReloadable(r: Reloadable): void {
  r.verifier.close()
  r.approvals.close()
  r.admin.close()
  r.adminVerifier?.close()
}

/** Answers 503 "starting" until the pipeline is ready (the listener opens first to learn its URL). */
const starting: Stage = async function starting() {
  throw new GatewayError('GW_STARTING')
}

/** Builds every part from the frozen config and starts listening. Misconfiguration fails here, at boot. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger()
  // Policy and masking are compiled before anything opens, so a bad configuration fails fast.
  compilePolicy(config.rules, config.skills)
  buildMasking(config)
  const upstream = createUpstreamClient({
    origin: config.upstream.url,
    connections: config.upstream.connections,
    connectTimeoutMs: config.upstream.timeouts.connect,
    firstByteTimeoutMs: config.upstream.timeouts.firstByte,
    idleTimeoutMs: config.upstream.timeouts.idle,
  })
  const metrics = createMetrics()
  const tracing = createTracing(config.tracing && { otlpUrl: config.tracing.otlp.url, serviceName: config.tracing.serviceName, sampleRatio: config.tracing.sampleRatio })
  const audit = await openAuditRuntime(config, logger)
  const revocations = await openRevocationCache(audit.storage.revocations, {
    onError: (error) => logger.error({ detail: error.message }, 'revocation list refresh failed'),
  })
  const notifier = createNotifier(
    config.notify.map((n, i) => {
      const secret = config.secrets.notifySecrets[i]
      return { webhook: { url: n.webhook.url, ...(n.webhook.format ? { format: n.webhook.format } : {}), ...(secret ? { secret } : {}) } }
    }),
  )
  const shared: Shared = { storage: audit.storage, notifier, logger, revocations, audit: audit.writer }
  const limiter = createLimiter({ counters: audit.storage.counters, onError: (error) => logger.warn({ detail: error.message }, 'stream slot housekeeping failed') })
  const credential = await upstreamCredential(config, logger)
  // In memory until the storage layer has a shared adapter: after a restart live gateway tokens get 401 and are re-exchanged.
  const minted = createMemoryMintedStore()
  const stable = { revocations, containers: createContainerOwners(), credential: credential.provider, upstream, audit: audit.writer, limiter, minted }
  const storageHealth = watchStorageHealth(audit)
  let current: Reloadable | undefined
  const gatewayServer = createGatewayServer({
    pipeline: [starting],
    metrics,
    logger,
    tracer: tracing.tracer,
    readiness: () => {
      const issuers = current?.verifier.health() ?? []
      const upstreamHealth = credential.health()
      const ready = current !== undefined && issuers.every((issuer) => issuer.state !== 'unavailable') && storageHealth.value.ok && revocations.fresh() && upstreamHealth.ok
      return { ready, checks: { issuers, storage: { kind: audit.storage.kind, ...storageHealth.value }, revocations: { fresh: revocations.fresh() }, upstreamCredential: upstreamHealth } }
    },
  })
  const url = await listen(gatewayServer, options.port ?? config.listen.port, config.listen.host)
  const exchange = await openExchange({
    config: () => current?.config ?? config,
    verifier: () => (current as Reloadable).verifier,
    policy: () => (current as Reloadable).policy,
    revocations,
    storage: audit.storage,
    minted,
    audit: audit.writer,
    logger,
    url,
  })
  const pipelineFor = (r: Reloadable) => buildPipeline({ ...stable, verifier: r.verifier, policy: r.policy, masking: r.masking, approvals: r.approvals }, r.config)
  current = await buildReloadable(config, exchange.gatewayTokens, shared)
  gatewayServer.setPipeline(pipelineFor(current))
  // The web console (SPEC §3, docs/console.md): static files; it calls the admin API like any client.
  const consoleUi = createConsoleHandler({ root: defaultConsoleRoot() })
  gatewayServer.setRoutes({
    exact: new Map([
      ['POST /v1/oauth/token', (req, res) => exchange.handle(req, res)],
      ['GET /.well-known/jwks.json', async (_req, res) => exchange.jwks(res)],
      ['GET /ui', consoleUi],
      ['HEAD /ui', consoleUi],
    ]),
    // The admin API matches path segments exactly (percent-encoded principals), so it is not subject
    // to the data plane's dot-segment check; `..` can only produce a 404 there. The console handler
    // serves only plain file names under its root.
    prefixes: [
      ['/admin/api/', (req, res, path, search) => live().admin.handle(req, res, path, search)],
      ['/ui/', consoleUi],
    ],
  })
  logger.info({ url, config: config.source, gatewayIssuer: exchange.gatewayTokens.issuer }, 'skillgate listening')
  const live = () => current as Reloadable
  return {
    url,
    get config() {
      return live().config
    },
    get verifier() {
      return live().verifier
    },
    get policy() {
      return live().policy
    },
    audit,
    revocations,
    gatewayTokens: exchange.gatewayTokens,
    get approvals() {
      return live().approvals
    },
    notifier,
    async reload(next) {
      const built = await buildReloadable(next, exchange.gatewayTokens, shared)
      const previous = live()
      current = built
      gatewayServer.setPipeline(pipelineFor(built))
      // The old verifier may still serve requests in flight; its timers go after a grace period.
      setTimeout(() => closeReloadable(previous), 60_000).unref()
      const restartNeeded = restartOnlyChanges(config, next)
      logger.info({ config: next.source, restartNeeded }, 'configuration reloaded')
      return { restartNeeded }
    },
    async close(timeoutMs = config.listen.drainTimeout) {
      storageHealth.stop()
      revocations.close()
      await gatewayServer.drain(timeoutMs, timeoutMs === config.listen.drainTimeout ? config.listen.shutdownDelay : 0)
      closeReloadable(live())
      await notifier.close()
      await audit.close()
      await upstream.close()
      exchange.close()
      credential.close()
      await tracing.shutdown()
    },
  }
}

async function listen(gatewayServer: GatewayServer, port: number, host: string): Promise<string> {
  const { server } = gatewayServer
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${shown}:${address.port}`
}

/** Sections read only at start-up: a reload reports them instead of half-applying them. */
function restartOnlyChanges(running: Config, next: Config): string[] {
  const sections = ['listen', 'upstream', 'storage', 'audit', 'gatewayTokens', 'admin'] as const
  return sections.filter((key) => JSON.stringify(running[key]) !== JSON.stringify(next[key]))
}

function watchStorageHealth(audit: AuditRuntime) {
  const state = { value: { ok: true } as { ok: boolean; detail?: string } }
  const timer = setInterval(() => {
    audit.storage.health().then(
      (health) => (state.value = health),
      (error: unknown) => (state.value = { ok: false, detail: (error as Error).message }),
    )
  }, 5_000)
  timer.unref()
  return { get value() { return state.value }, stop: () => clearInterval(timer) }
}

/**
 * The one upstream credential: a static key (followed when it is a file), or — with
 * `upstream.federation` — a short-lived token the gateway exchanges for its own workload token at the
 * upstream's `/v1/oauth/token` and refreshes before expiry, so no long-lived key exists at all.
 */
async function upstreamCredential(config: Config, logger: Logger): Promise<{ provider: CredentialProvider; health: () => { ok: boolean; detail?: string }; close: () => void }> {
  const key = config.secrets.upstreamApiKey
  if (key) {
    key.follow()
    return { provider: () => ({ header: 'x-api-key', value: key.reveal(), oauth: false }), health: () => ({ ok: true }), close: () => key.close() }
  }
  const federation = config.upstream.federation
  const identity = config.secrets.upstreamIdentityToken
  if (!federation || !identity) return { provider: () => undefined, health: () => ({ ok: false, detail: 'no upstream credential' }), close: () => undefined }
  identity.follow()
  const upstream = createUpstreamFederation({
    origin: config.upstream.url,
    identityToken: () => identity.reveal(),
    ruleId: federation.ruleId,
    organizationId: federation.organizationId,
    ...(federation.serviceAccountId ? { serviceAccountId: federation.serviceAccountId } : {}),
    ...(federation.workspaceId ? { workspaceId: federation.workspaceId } : {}),
    onEvent: (event) => (event.type === 'federation.failed' ? logger.error(event, 'upstream federation failed') : logger.info({ expiresAt: new Date(event.expiresAt).toISOString() }, 'upstream token refreshed')),
  })
  try {
    await upstream.start()
  } catch (error) {
    // Requests fail closed (503) until a background retry succeeds; readiness says why.
    logger.error({ detail: (error as Error).message }, 'upstream federation could not exchange at start-up; retrying')
  }
  return {
    provider: () => upstream.current(),
    health: () => {
      const h = upstream.health()
      return h.state === 'ready' || h.state === 'refreshing' ? { ok: true } : { ok: false, detail: `upstream federation ${h.state}${h.lastError ? `: ${h.lastError}` : ''}` }
    },
    close: () => {
      upstream.close()
      identity.close()
    },
  }
}

export function toIssuerSpec(issuer: IssuerConfig): IssuerSpec {
  const { jwks } = issuer
  return {
    id: issuer.id,
    issuer: issuer.issuer,
    jwks: jwks.uri
      ? { kind: 'uri', uri: new URL(jwks.uri) }
      : jwks.file
        ? { kind: 'file', path: jwks.file }
        : jwks.keys
          ? { kind: 'keys', keys: jwks.keys as JWK[] }
          : { kind: 'discovery' },
    audience: issuer.audience,
    algorithms: issuer.algorithms,
    maxLifetimeMs: issuer.maxLifetime,
    ...(issuer.maxAge !== undefined ? { maxAgeMs: issuer.maxAge } : {}),
    clockSkewMs: issuer.clockSkew,
    requiredClaims: issuer.requiredClaims,
    ...(issuer.typ !== undefined ? { typ: issuer.typ } : {}),
    allowInsecureHttp: issuer.insecureAllowHttp,
  }
}
