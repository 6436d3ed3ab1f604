import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import type { GatewayTokens } from '../identity/gateway-token.js'
import type { Stage } from '../pipeline/stage.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Readiness, RouteHandler, Routes } from '../http/server.js'
import type { Storage, StorageHealth } from '../storage/ports.js'
import { createConsoleHandler, defaultConsoleRoot } from '../ui/console-handler.js'
import type { AuditSigningKeys } from './audit-signing.js'
import { serveJwks } from './exchange.js'
import type { Generations } from './reload.js'

/**
 * The handlers outside the pipeline. Each request looks the configuration up once, when it starts.
 * The admin API matches path segments exactly (percent-encoded principals), so it is not subject to
 * the data plane's dot-segment check; `..` can only produce a 404 there. The console handler
 * (SPEC §3, docs/console.md: static files calling the admin API like any client) serves only plain
 * file names under its root.
 *
 * With `admin.listen` the admin side (console, admin API, Slack clicks) is mounted on its own
 * listener and the public one answers 404 for it; otherwise both are on the public listener.
 */
export function gatewayRoutes(generations: Generations, gatewayTokens: GatewayTokens, options: { readonly adminApart: boolean; readonly auditSigning?: AuditSigningKeys | undefined }): Routes {
  const auditSigning = options.auditSigning
  const data: Routes = {
    exact: new Map<string, RouteHandler>([
      ['POST /v1/oauth/token', (req, res) => generations.current.exchange(req, res)],
      ['GET /.well-known/jwks.json', async (_req, res) => serveJwks(gatewayTokens, res)],
      ...(auditSigning ? [['GET /.well-known/skillgate-audit-keys', async (_req: IncomingMessage, res: ServerResponse) => serveJson(auditSigning.jwks, res)] as const] : []),
    ]),
    prefixes: [
      // MCP (docs/mcp.md): the endpoint answers every method itself (POST; 405 for GET and DELETE).
      ['/mcp/', (req, res, path) => generations.current.mcp.endpoint(req, res, path)],
      ['/.well-known/oauth-protected-resource/mcp/', (req, res, path) => generations.current.mcp.resourceMetadata(req, res, path)],
    ],
  }
  if (options.adminApart) return data
  const admin = adminRoutes(generations)
  return { exact: new Map([...(data.exact ?? []), ...(admin.exact ?? [])]), prefixes: [...(data.prefixes ?? []), ...(admin.prefixes ?? [])] }
}

/** The console, the admin API and Slack's interactions endpoint: what `admin.listen` moves apart. */
export function adminRoutes(generations: Generations): Routes {
  const consoleUi = createConsoleHandler({ root: defaultConsoleRoot() })
  return {
    exact: new Map<string, RouteHandler>([
      ['POST /admin/slack/interactions', (req, res) => generations.current.admin.slackInteractions(req, res)],
      ['GET /ui', consoleUi],
      ['HEAD /ui', consoleUi],
    ]),
    prefixes: [
      ['/admin/api/', (req, res, path, search) => generations.current.admin.handle(req, res, path, search)],
      ['/admin/login/', (req, res, path, search) => generations.current.admin.login(req, res, path, search)],
      ['/ui/', consoleUi],
    ],
  }
}

/** `GET /.well-known/skillgate-audit-keys`: the public keys of audit chain heads (a JWKS). */
function serveJson(body: object, res: ServerResponse): void {
  const text = JSON.stringify(body)
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** The admin listener's `/v1/*`: the data plane is on the public listener only. */
export const dataPlaneElsewhere: Stage = async () => {
  throw new GatewayError('GW_NOT_FOUND', { publicDetail: 'this is the admin listener (admin.listen); the Claude API is served on the public listener' })
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
