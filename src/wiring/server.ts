import type { GatewayTokens } from '../identity/gateway-token.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Readiness, Routes } from '../http/server.js'
import type { Storage, StorageHealth } from '../storage/ports.js'
import { createConsoleHandler, defaultConsoleRoot } from '../ui/console-handler.js'
import { serveJwks } from './exchange.js'
import type { Generations } from './reload.js'

/**
 * The handlers outside the pipeline. Each request looks the configuration up once, when it starts.
 * The admin API matches path segments exactly (percent-encoded principals), so it is not subject to
 * the data plane's dot-segment check; `..` can only produce a 404 there. The console handler
 * (SPEC §3, docs/console.md: static files calling the admin API like any client) serves only plain
 * file names under its root.
 */
export function gatewayRoutes(generations: Generations, gatewayTokens: GatewayTokens): Routes {
  const consoleUi = createConsoleHandler({ root: defaultConsoleRoot() })
  return {
    exact: new Map([
      ['POST /v1/oauth/token', (req, res) => generations.current.exchange(req, res)],
      ['POST /admin/slack/interactions', (req, res) => generations.current.admin.slackInteractions(req, res)],
      ['GET /.well-known/jwks.json', async (_req, res) => serveJwks(gatewayTokens, res)],
      ['GET /ui', consoleUi],
      ['HEAD /ui', consoleUi],
    ]),
    prefixes: [
      ['/admin/api/', (req, res, path, search) => generations.current.admin.handle(req, res, path, search)],
      ['/ui/', consoleUi],
    ],
  }
}

export interface ReadinessParts {
  readonly generations: Generations
  readonly storage: Storage
  readonly storageHealth: { readonly value: StorageHealth }
  readonly revocations: RevocationCache
  readonly upstreamCredential: () => StorageHealth
}

/** Ready when issuers' keys, the store, the revocation list and the upstream credential all are. */
export function gatewayReadiness(parts: ReadinessParts): () => Readiness {
  return () => {
    const issuers = parts.generations.current.issuersHealth()
    const upstreamCredential = parts.upstreamCredential()
    const storage = parts.storageHealth.value
    const fresh = parts.revocations.fresh()
    const ready = issuers.every((issuer) => issuer.state !== 'unavailable') && storage.ok && fresh && upstreamCredential.ok
    return { ready, checks: { issuers, storage: { kind: parts.storage.kind, ...storage }, revocations: { fresh }, upstreamCredential } }
  }
}
