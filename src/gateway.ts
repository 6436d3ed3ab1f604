import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'
import type { Logger } from 'pino'
import { openAuditRuntime, type AuditRuntime } from './audit-runtime.js'
import type { Config } from './config/load.js'
import type { IssuerConfig } from './config/schema.js'
import { createTokenVerifier, type IssuerSpec, type TokenVerifier } from './identity/index.js'
import { openRevocationCache, type RevocationCache } from './identity/revocation-cache.js'
import { cacheVerifications } from './identity/verified-cache.js'
import { buildMasking } from './masking-setup.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'
import { buildPipeline } from './pipeline/index.js'
import { compilePolicy, type Policy } from './policy/compile.js'
import { createContainerOwners } from './policy/container-owners.js'
import { createGatewayServer } from './server.js'
import type { CredentialProvider } from './stages/inject-credential.js'
import { createUpstreamClient } from './upstream/client.js'

export interface Gateway {
  /** `http://host:port` it listens on. */
  readonly url: string
  /** The configuration in force (changes on a successful reload). */
  readonly config: Config
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly audit: AuditRuntime
  readonly revocations: RevocationCache
  /**
   * Applies a new configuration's issuers, rules, skills and masking without a restart; requests
   * in flight finish under the old one. Parts that need a restart (listen, upstream, storage,
   * audit) are reported in the returned list and keep their running values.
   */
  reload(next: Config): Promise<{ restartNeeded: string[] }>
  /** Graceful: waits for streams in flight up to `listen.drainTimeout` (or `timeoutMs`). */
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
}

async function buildReloadable(config: Config): Promise<Reloadable & { masking: ReturnType<typeof buildMasking> }> {
  const policy = compilePolicy(config.rules, config.skills)
  const masking = buildMasking(config)
  const verifier = cacheVerifications(createTokenVerifier(config.issuers.map(toIssuerSpec)))
  await verifier.warmUp()
  return { config, verifier, policy, masking }
}

/** Builds every part from the frozen config and starts listening. Misconfiguration fails here, at boot. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger()
  let current = await buildReloadable(config)
  const upstream = createUpstreamClient({
    origin: config.upstream.url,
    connections: config.upstream.connections,
    connectTimeoutMs: config.upstream.timeouts.connect,
    firstByteTimeoutMs: config.upstream.timeouts.firstByte,
    idleTimeoutMs: config.upstream.timeouts.idle,
  })
  const metrics = createMetrics()
  const audit = await openAuditRuntime(config, logger)
  const revocations = await openRevocationCache(audit.storage.revocations, {
    onError: (error) => logger.error({ detail: error.message }, 'revocation list refresh failed'),
  })
  const stable = { revocations, containers: createContainerOwners(), credential: upstreamCredential(config), upstream, audit: audit.writer }
  const pipelineFor = (r: typeof current) => buildPipeline({ ...stable, verifier: r.verifier, policy: r.policy, masking: r.masking }, r.config)
  const storageHealth = watchStorageHealth(audit)
  const gatewayServer = createGatewayServer({
    pipeline: pipelineFor(current),
    metrics,
    logger,
    readiness: () => {
      const issuers = current.verifier.health()
      const ready = issuers.every((issuer) => issuer.state !== 'unavailable') && storageHealth.value.ok
      return { ready, checks: { issuers, storage: { kind: audit.storage.kind, ...storageHealth.value } } }
    },
  })
  const { server } = gatewayServer
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? config.listen.port, config.listen.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  logger.info({ url, config: config.source }, 'skillgate listening')
  return {
    url,
    get config() {
      return current.config
    },
    get verifier() {
      return current.verifier
    },
    get policy() {
      return current.policy
    },
    audit,
    revocations,
    async reload(next) {
      const built = await buildReloadable(next)
      const previous = current
      current = built
      gatewayServer.setPipeline(pipelineFor(built))
      // The old verifier may still serve requests in flight; its timers go after a grace period.
      setTimeout(() => previous.verifier.close(), 60_000).unref()
      const restartNeeded = restartOnlyChanges(config, next)
      logger.info({ config: next.source, restartNeeded }, 'configuration reloaded')
      return { restartNeeded }
    },
    async close(timeoutMs = config.listen.drainTimeout) {
      storageHealth.stop()
      revocations.close()
      await gatewayServer.drain(timeoutMs)
      await audit.close()
      await upstream.close()
      current.verifier.close()
      config.secrets.upstreamApiKey?.close()
    },
  }
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

function upstreamCredential(config: Config): CredentialProvider {
  const key = config.secrets.upstreamApiKey
  if (!key) return () => undefined
  key.follow()
  return () => ({ header: 'x-api-key', value: key.reveal(), oauth: false })
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
