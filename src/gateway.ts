import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'
import type { Logger } from 'pino'
import { openAuditRuntime, type AuditRuntime } from './audit-runtime.js'
import type { Config } from './config/load.js'
import type { IssuerConfig } from './config/schema.js'
import { createTokenVerifier, type IssuerSpec, type TokenVerifier } from './identity/index.js'
import { cacheVerifications } from './identity/verified-cache.js'
import { openRevocationCache, type RevocationCache } from './identity/revocation-cache.js'
import { buildMasking } from './masking-setup.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'
import { buildPipeline } from './pipeline/index.js'
import { compilePolicy } from './policy/compile.js'
import { createContainerOwners } from './policy/container-owners.js'
import { createGatewayServer, type GatewayServer } from './server.js'
import type { CredentialProvider } from './stages/inject-credential.js'
import { createUpstreamClient } from './upstream/client.js'

export interface Gateway {
  /** `http://host:port` it listens on. */
  readonly url: string
  readonly config: Config
  readonly verifier: TokenVerifier
  readonly audit: AuditRuntime
  readonly revocations: RevocationCache
  /** Graceful: waits for streams in flight up to `listen.drainTimeout` (or `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>
}

export interface StartOptions {
  readonly logger?: Logger
  /** Overrides `listen.port` (tests use 0). */
  readonly port?: number
}

/** Builds every part from the frozen config and starts listening. Misconfiguration fails here, at boot. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger()
  const verifier = cacheVerifications(createTokenVerifier(config.issuers.map(toIssuerSpec)))
  await verifier.warmUp()
  const credential = upstreamCredential(config)
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
  const pipeline = buildPipeline({ verifier, revocations, masking: buildMasking(config), policy: compilePolicy(config.rules, config.skills), containers: createContainerOwners(), credential, upstream, audit: audit.writer }, config)
  let storageHealth: { ok: boolean; detail?: string } = { ok: true }
  const healthTimer = setInterval(() => {
    audit.storage.health().then(
      (health) => (storageHealth = health),
      (error: unknown) => (storageHealth = { ok: false, detail: (error as Error).message }),
    )
  }, 5_000)
  healthTimer.unref()
  const gatewayServer: GatewayServer = createGatewayServer({
    pipeline,
    metrics,
    logger,
    readiness: () => {
      const issuers = verifier.health()
      const ready = issuers.every((issuer) => issuer.state !== 'unavailable') && storageHealth.ok
      return { ready, checks: { issuers, storage: { kind: audit.storage.kind, ...storageHealth } } }
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
    config,
    verifier,
    audit,
    revocations,
    async close(timeoutMs = config.listen.drainTimeout) {
      clearInterval(healthTimer)
      revocations.close()
      await gatewayServer.drain(timeoutMs)
      await audit.close()
      await upstream.close()
      verifier.close()
      config.secrets.upstreamApiKey?.close()
    },
  }
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
