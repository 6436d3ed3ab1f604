import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { RefusalAggregator } from '../audit/refusals.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import { bodyRefusedResponse, createTokenExchange, EXCHANGE_BODY_LIMITS, NO_STORE_HEADERS, readBody, type ExchangeEvent, type ExchangeHttpResponse } from '../exchange/index.js'
import { openGatewayTokens, type GatewayTokens } from '../identity/gateway-token.js'
import type { TokenVerifier, VerifiedToken } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { AnonymousGate } from '../http/unauthenticated-cap.js'
import type { Policy } from '../policy/compile.js'
import { selectRule } from '../policy/select-rule.js'
import type { Storage } from '../storage/ports.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'
import type { ErrorReports } from './error-reports.js'
import { gatewayKeysFor } from './gateway-keys.js'
import { exchangeRecordOpener, recordRefusedExchange } from './exchange-audit.js'

/**
 * The gateway's own signing keys (opened once: `gatewayTokens` is a restart-only section). `url` is
 * the listen URL, the issuer when `gatewayTokens.issuer` is not configured.
 */
export function openGatewayTokensFor(config: Config, url: string, storage: Storage, reports: ErrorReports): Promise<GatewayTokens> {
  return openGatewayTokens({
    ...gatewayKeysFor(config, storage, reports),
    issuer: (config.gatewayTokens.issuer ?? url).replace(/\/$/, ''),
    ttlMs: config.gatewayTokens.ttl,
    rotateAfterMs: config.gatewayTokens.rotateAfter,
    // MCP capability tokens are signed with these keys and may outlive a gateway token.
    ...(config.mcp === undefined ? {} : { retainAtLeastMs: config.mcp.capabilityTtl }),
  })
}

/** `GET /.well-known/jwks.json`: the public keys of the gateway tokens. */
export function serveJwks(gatewayTokens: GatewayTokens, res: ServerResponse): void {
  const text = JSON.stringify(gatewayTokens.jwks())
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export interface ExchangeDeps {
  readonly config: Config
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly gatewayTokens: GatewayTokens
  readonly revocations: RevocationCache
  readonly storage: Storage
  /** Source claims of minted tokens (issue #13): the same store the `/v1` pipeline reads. */
  readonly minted: MintedTokenStore
  readonly audit: AuditWriter | undefined
  /** Anonymous refusals past a per-address burst, one aggregated record per address, reason and minute. */
  readonly refusals?: RefusalAggregator | undefined
  /** The listener's per-address cap on unauthenticated refusals, shared with `/v1/*`. */
  readonly anonymous?: AnonymousGate | undefined
  readonly logger: Logger
  readonly reports: ErrorReports
}

/**
 * `POST /v1/oauth/token` (SPEC §3), built once per configuration: the Claude WIF jwt-bearer form and
 * RFC 8693, minting short-lived ES256 gateway tokens bound to one rule and principal. Never
 * authenticated by the pipeline, never forwarded upstream; every exchange, allowed or refused, is
 * written to the audit like any other request.
 */
export async function buildExchangeHandler(deps: ExchangeDeps): Promise<(req: IncomingMessage, res: ServerResponse) => Promise<void>> {
  const exchange = createTokenExchange({
    verifier: deps.verifier,
    issuers: [...deps.config.issuers.map((i) => ({ id: i.id, singleUse: i.singleUse })), ...deps.config.samlIssuers.map((s) => ({ id: s.id, singleUse: true }))],
    gatewayTokens: deps.gatewayTokens,
    replay: deps.storage.replay,
    minted: deps.minted,
    matchRule: (identity, namedRule) => {
      // Minted tokens are for `/v1` (the Claude SDKs' federation): an MCP-only rule steps aside there too.
      const selection = selectRule(deps.policy, { issuerId: identity.issuerId, claims: identity.claims, namedRule, serves: (rule) => rule.serves.v1 })
      if (selection.ok) return { ok: true, rule: selection.rule.id, principal: selection.principal }
      return { ok: false, reason: selection.decision.reasons.map((r) => r.code).join(',') }
    },
    isRevoked: (identity, principal) => isRevoked(deps.revocations, identity, principal),
    ...(deps.config.gatewayTokens.organizationId !== undefined ? { organizationId: deps.config.gatewayTokens.organizationId } : {}),
    ...(await samlOf(deps.config, deps.gatewayTokens)),
    onEvent: (event) => {
      deps.logger.info({ exchange: event }, event.type)
      if (event.type === 'exchange.failed' && !ownRecord(deps, event)) return
      // Exchanges that were granted have their record written in order (openRecord); the rest here.
      if (!event.audited) void recordRefusedExchange(deps, event)
    },
    ...(deps.audit ? { openRecord: exchangeRecordOpener(deps.audit) } : {}),
  })
  return async (req, res) => {
    const clientAddress = deps.anonymous?.addressOf(req)
    const retryAfter = clientAddress === undefined ? 0 : (deps.anonymous?.retryAfter(clientAddress) ?? 0)
    if (retryAfter > 0) {
      // Before the body is read or any assertion parsed: a flood costs a map lookup per request.
      deps.anonymous?.refused(clientAddress ?? '', 'GW_LIMIT_UNAUTHENTICATED')
      return send(res, tooManyRefusals(retryAfter))
    }
    const read = await readBody(req, EXCHANGE_BODY_LIMITS)
    if (!read.ok) {
      if (clientAddress !== undefined) deps.anonymous?.refused(clientAddress, `exchange:body:${read.reason}`)
      return send(res, bodyRefusedResponse(read.reason))
    }
    send(res, await exchange({ contentType: req.headers['content-type'], body: read.body, headers: req.headers, ...(clientAddress === undefined ? {} : { clientAddress }) }))
  }
}

function send(res: ServerResponse, result: ExchangeHttpResponse): void {
  res.writeHead(result.status, result.headers)
  res.end(result.body)
}

/**
 * A refusal of an assertion that never verified is charged to the client address like a `/v1`
 * 401 (metric and per-minute cap), and past a small burst per address and reason it is counted into
 * that minute's aggregated record instead of getting its own: anyone can send bad assertions, so
 * they must not be able to grow the store without bound. True: write its own record.
 */
function ownRecord(deps: ExchangeDeps, event: Extract<ExchangeEvent, { type: 'exchange.failed' }>): boolean {
  if (event.anonymous !== true || event.status >= 500 || event.clientAddress === undefined) return true
  const code = `exchange:${event.reason}`
  deps.anonymous?.refused(event.clientAddress, code)
  return deps.refusals?.admit({ clientAddress: event.clientAddress, code, status: event.status }) ?? true
}

/** RFC 6749 has no rate-limit error: `temporarily_unavailable` with 429 and Retry-After says it. */
function tooManyRefusals(retryAfter: number): ExchangeHttpResponse {
  const body = JSON.stringify({
    error: 'temporarily_unavailable',
    error_description: `too many refused requests from this address (listen.unauthenticatedPerMinute); retry after ${retryAfter} s`,
  })
  return { status: 429, headers: { ...NO_STORE_HEADERS, 'retry-after': String(retryAfter) }, body }
}

async function samlOf(config: Config, gatewayTokens: GatewayTokens) {
  if (config.samlIssuers.length === 0) return {}
  const { createSamlVerifier } = await import('../exchange/saml.js')
  const saml = createSamlVerifier({
    issuers: config.samlIssuers.map((s, i) => ({
      id: s.id,
      entityId: s.entityId,
      certificates: () => (config.secrets.samlCertificates[i] ?? []).map((c) => c.reveal()),
      audience: s.audience,
      maxLifetimeMs: s.maxLifetime,
      ...(s.maxAge !== undefined ? { maxAgeMs: s.maxAge } : {}),
      clockSkewMs: s.clockSkew,
    })),
    tokenEndpoint: `${gatewayTokens.issuer}/v1/oauth/token`,
  })
  return { saml }
}

function isRevoked(revocations: RevocationCache, identity: VerifiedToken, principal: string): boolean {
  const jti = typeof identity.claims.jti === 'string' ? identity.claims.jti : undefined
  const iat = typeof identity.claims.iat === 'number' ? identity.claims.iat : undefined
  return revocations.checkToken(identity.issuerId, String(identity.claims.iss), jti) !== 'ok' || revocations.checkPrincipal(principal, iat) !== 'ok'
}
