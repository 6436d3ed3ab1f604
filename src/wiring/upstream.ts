import type { Logger } from 'pino'
import type { Config } from '../config/load.js'
import type { CredentialProvider } from '../stages/inject-credential.js'
import { createUpstreamClient, type UpstreamClient } from '../upstream/client.js'
import { createUpstreamFederation } from '../upstream/federation.js'
import type { ErrorReports } from './error-reports.js'

/** The one upstream credential, with its health for /readyz. */
export interface UpstreamCredential {
  readonly provider: CredentialProvider
  health(): { readonly ok: boolean; readonly detail?: string }
  close(): void
}

/** The connection pool to `upstream.url` (restart-only: a reload keeps it). */
export function openUpstreamClient(upstream: Config['upstream']): UpstreamClient {
  return createUpstreamClient({
    origin: upstream.url,
    connections: upstream.connections,
    connectTimeoutMs: upstream.timeouts.connect,
    firstByteTimeoutMs: upstream.timeouts.firstByte,
    idleTimeoutMs: upstream.timeouts.idle,
  })
}

/**
 * A static key (followed when it is a file), or — with `upstream.federation` — a short-lived token
 * the gateway exchanges for its own workload token at the upstream's `/v1/oauth/token` and refreshes
 * before expiry, so no long-lived key exists at all.
 */
export async function openUpstreamCredential(config: Config, logger: Logger, reports: ErrorReports): Promise<UpstreamCredential> {
  const key = config.secrets.upstreamApiKey
  if (key) {
    key.follow(undefined, undefined, (error) => reports.secretFile(error))
    return { provider: () => ({ header: 'x-api-key', value: key.reveal(), oauth: false }), health: () => ({ ok: true }), close: () => key.close() }
  }
  const federation = config.upstream.federation
  const identity = config.secrets.upstreamIdentityToken
  if (!federation || !identity) return { provider: () => undefined, health: () => ({ ok: false, detail: 'no upstream credential' }), close: () => undefined }
  identity.follow(undefined, undefined, (error) => reports.secretFile(error))
  const upstream = createUpstreamFederation({
    origin: config.upstream.url,
    identityToken: () => identity.reveal(),
    ruleId: federation.ruleId,
    organizationId: federation.organizationId,
    ...(federation.serviceAccountId ? { serviceAccountId: federation.serviceAccountId } : {}),
    ...(federation.workspaceId ? { workspaceId: federation.workspaceId } : {}),
    onEvent: (event) => {
      if (event.type !== 'federation.failed') return logger.info({ expiresAt: new Date(event.expiresAt).toISOString() }, 'upstream token refreshed')
      const { error, ...facts } = event
      reports.upstreamFederation(new Error(error), {}, facts)
    },
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
