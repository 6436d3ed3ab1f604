import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { buildCompletion, buildOpening } from '../audit/record-builder.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import { bodyRefusedResponse, createSamlVerifier, createTokenExchange, EXCHANGE_BODY_LIMITS, readBody, type ExchangeEvent } from '../exchange/index.js'
import { formatActChain } from '../identity/act-chain.js'
import { openGatewayTokens, type GatewayTokens } from '../identity/gateway-token.js'
import type { TokenVerifier, VerifiedToken } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import { newRequestId } from '../observability/request-id.js'
import type { Policy } from '../policy/compile.js'
import { selectRule } from '../policy/select-rule.js'
import type { Storage } from '../storage/ports.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'
import type { ErrorReports } from './error-reports.js'
import { gatewayKeysFor } from './gateway-keys.js'

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
  readonly logger: Logger
  readonly reports: ErrorReports
}

/**
 * `POST /v1/oauth/token` (SPEC §3), built once per configuration: the Claude WIF jwt-bearer form and
 * RFC 8693, minting short-lived ES256 gateway tokens bound to one rule and principal. Never
 * authenticated by the pipeline, never forwarded upstream; every exchange, allowed or refused, is
 * written to the audit like any other request.
 */
export function buildExchangeHandler(deps: ExchangeDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const exchange = createTokenExchange({
    verifier: deps.verifier,
    issuers: [...deps.config.issuers.map((i) => ({ id: i.id, singleUse: i.singleUse })), ...deps.config.samlIssuers.map((s) => ({ id: s.id, singleUse: true }))],
    gatewayTokens: deps.gatewayTokens,
    replay: deps.storage.replay,
    minted: deps.minted,
    matchRule: (identity, namedRule) => {
      const selection = selectRule(deps.policy, { issuerId: identity.issuerId, claims: identity.claims, namedRule })
      if (selection.ok) return { ok: true, rule: selection.rule.id, principal: selection.principal }
      return { ok: false, reason: selection.decision.reasons.map((r) => r.code).join(',') }
    },
    isRevoked: (identity, principal) => isRevoked(deps.revocations, identity, principal),
    ...(deps.config.gatewayTokens.organizationId !== undefined ? { organizationId: deps.config.gatewayTokens.organizationId } : {}),
    ...samlOf(deps.config, deps.gatewayTokens),
    onEvent: (event) => {
      deps.logger.info({ exchange: event }, event.type)
      void recordExchange(deps, event)
    },
  })
  return async (req, res) => {
    const read = await readBody(req, EXCHANGE_BODY_LIMITS)
    const result = read.ok ? await exchange({ contentType: req.headers['content-type'], body: read.body, headers: req.headers }) : bodyRefusedResponse(read.reason)
    res.writeHead(result.status, result.headers)
    res.end(result.body)
  }
}

function samlOf(config: Config, gatewayTokens: GatewayTokens) {
  if (config.samlIssuers.length === 0) return {}
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

async function recordExchange(deps: ExchangeDeps, event: ExchangeEvent): Promise<void> {
  if (!deps.audit) return
  const ok = event.type === 'exchange.succeeded'
  const status = ok ? 200 : event.status
  const started = Date.now() - event.durationMs
  const start = new Date(started)
  const claims = ok ? { iss: event.iss, sub: event.sub, ...(event.jti ? { jti: event.jti } : {}) } : {}
  try {
    await deps.audit.record(
      buildOpening({
        id: newRequestId(started),
        start,
        identity: event.issuerId ? { issuerId: event.issuerId, claims } : undefined,
        decision: {
          effect: ok ? 'allow' : 'deny',
          rule: event.rule,
          principal: ok ? event.principal : undefined,
          // The subject's own delegation chain (RFC 8693 §4.1), nested under the minted token's `act`.
          reasons: [ok ? { code: 'exchange-succeeded', detail: event.act ? `${event.grant}; act: ${formatActChain(event.act)}` : event.grant } : { code: 'exchange-refused', detail: event.detail ? `${event.reason}: ${event.detail}` : event.reason }],
        },
        endpoint: 'oauth_token',
        method: 'POST',
        path: '/v1/oauth/token',
        requestBytes: 0,
        content: 'metadata',
      }),
      buildCompletion({ start, end: new Date(), status, outcome: ok ? 'completed' : 'denied', ...(ok ? {} : { error: event.error }), content: 'metadata' }),
    )
  } catch (error) {
    deps.reports.auditWrite(error as Error, { op: 'exchange' }, { exchange: event.type })
  }
}
