import type { Logger } from 'pino'
import type { Config } from '../config/load.js'
import type { CredentialProvider } from '../stages/inject-credential.js'
import { createUpstreamClient, type UpstreamClient } from '../upstream/client.js'
import { createUpstreamFederation } from '../upstream/federation.js'
import type { ErrorReports } from './error-reports.js'
import type { Secret } from '../config/secret-source.js'

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
  const source = { apiKey: config.secrets.upstreamApiKey, federation: config.upstream.federation, identityToken: config.secrets.upstreamIdentityToken }
  return openCredential(source, config.upstream.url, logger, reports)
}

/**
 * The credentials of rules with their own `upstream` (issue #12), opened with the configuration
 * that names them and closed with it. A rule without one uses the gateway's.
 */
export async function openRuleCredentials(config: Config, logger: Logger, reports: ErrorReports): Promise<{ readonly byRule: ReadonlyMap<string, UpstreamCredential>; close(): void }> {
  const byRule = new Map<string, UpstreamCredential>()
  for (const rule of config.rules) {
    if (!rule.upstream) continue
    const secrets = config.secrets.ruleUpstream[rule.id]
    const source = { apiKey: secrets?.apiKey, federation: rule.upstream.federation, identityToken: secrets?.identityToken }
    byRule.set(rule.id, await openCredential(source, config.upstream.url, logger.child({ rule: rule.id }), reports))
  }
  return { byRule, close: () => byRule.forEach((credential) => credential.close()) }
}

/** Picks the rule's own credential, else the gateway's. */
export function credentialByRule(fallback: CredentialProvider, byRule: ReadonlyMap<string, UpstreamCredential>): CredentialProvider {
  if (byRule.size === 0) return fallback
  // A rule with its own credential never falls back to the gateway's: without it, nothing is forwarded.
  return (rule) => {
    const own = rule === undefined ? undefined : byRule.get(rule)
    return own ? own.provider(rule) : fallback(rule)
  }
}

interface CredentialSource {
  readonly apiKey: Secret | undefined
  readonly federation: Config['upstream']['federation']
  readonly identityToken: Secret | undefined
}

async function openCredential(source: CredentialSource, origin: string, logger: Logger, reports: ErrorReports): Promise<UpstreamCredential> {
  const key = source.apiKey
  if (key) {
    key.follow(undefined, undefined, (error) => reports.secretFile(error))
    return { provider: () => ({ header: 'x-api-key', value: key.reveal(), oauth: false }), health: () => ({ ok: true }), close: () => key.close() }
  }
  const { federation, identityToken: identity } = source
  if (!federation || !identity) return { provider: () => undefined, health: () => ({ ok: false, detail: 'no upstream credential' }), close: () => undefined }
  identity.follow(undefined, undefined, (error) => reports.secretFile(error))
  const upstream = createUpstreamFederation({
    origin,
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
