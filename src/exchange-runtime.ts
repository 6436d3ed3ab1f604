import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { buildCompletion, buildOpening } from './audit/record-builder.js'
import type { AuditWriter } from './audit/writer.js'
import type { Config } from './config/load.js'
import { formatActChain } from './identity/act-chain.js'
import { bodyRefusedResponse, createSamlVerifier, createTokenExchange, EXCHANGE_BODY_LIMITS, readBody, type ExchangeEvent } from './exchange/index.js'
import { GATEWAY_ISSUER_ID, openGatewayTokens, type GatewayTokens } from './identity/gateway-token.js'
import type { TokenVerifier, VerifiedToken } from './identity/index.js'
import type { RevocationCache } from './identity/revocation-cache.js'
import { newRequestId } from './observability/request-id.js'
import type { Policy } from './policy/compile.js'
import { selectRule } from './policy/select-rule.js'
import type { Storage } from './storage/ports.js'
import type { MintedTokenStore } from './storage/ports-minted.js'

export interface ExchangeRuntime {
  readonly gatewayTokens: GatewayTokens
  /** `POST /v1/oauth/token`: never authenticated by the pipeline, never forwarded upstream. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** `GET /.well-known/jwks.json`. */
  jwks(res: ServerResponse): void
  close(): void
}

export interface ExchangeDeps {
  readonly config: () => Config
  readonly verifier: () => TokenVerifier
  readonly policy: () => Policy
  readonly revocations: RevocationCache
  readonly storage: Storage
  /** Source claims of minted tokens (issue #13): the same store the `/v1` pipeline reads. */
  readonly minted: MintedTokenStore
  readonly audit: AuditWriter | undefined
  readonly logger: Logger
  /** The listen URL, used when `gatewayTokens.issuer` is not configured. */
  readonly url: string
}

/**
 * Token exchange (SPEC §3): the Claude WIF jwt-bearer form and RFC 8693, minting short-lived
 * ES256 gateway tokens bound to one rule and principal. Every exchange, allowed or refused, is
 * written to the audit like any other request.
 */
export async function openExchange(deps: ExchangeDeps): Promise<ExchangeRuntime> {
  const initial = deps.config()
  const issuer = (initial.gatewayTokens.issuer ?? deps.url).replace(/\/$/, '')
  const gatewayTokens = await openGatewayTokens({
    keyFile: initial.gatewayTokens.signingKey.fromFile,
    issuer,
    ttlMs: initial.gatewayTokens.ttl,
    rotateAfterMs: initial.gatewayTokens.rotateAfter,
  })
  // One handler per configuration (rebuilt after a reload), not per request.
  const handlers = new WeakMap<Config, ReturnType<typeof buildHandler>>()
  const handler = () => {
    const config = deps.config()
    let built = handlers.get(config)
    if (!built) handlers.set(config, (built = buildHandler(deps, gatewayTokens, config)))
    return built
  }
  return {
    gatewayTokens,
    async handle(req, res) {
      const read = await readBody(req, EXCHANGE_BODY_LIMITS)
      const result = read.ok ? await handler()({ contentType: req.headers['content-type'], body: read.body, headers: req.headers }) : bodyRefusedResponse(read.reason)
      res.writeHead(result.status, result.headers)
      res.end(result.body)
    },
    jwks(res) {
      const text = JSON.stringify(gatewayTokens.jwks())
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    },
    close: () => gatewayTokens.close(),
  }
}

/** Built once per configuration; the verifier and policy are read live (they follow reloads). */
function buildHandler(deps: ExchangeDeps, gatewayTokens: GatewayTokens, config: Config) {
  const saml = config.samlIssuers.length
    ? createSamlVerifier({
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
    : undefined
  return createTokenExchange({
    verifier: { verify: (token, options) => deps.verifier().verify(token, options) },
    issuers: [...config.issuers.map((i) => ({ id: i.id, singleUse: i.singleUse })), ...config.samlIssuers.map((s) => ({ id: s.id, singleUse: true }))],
    gatewayTokens,
    replay: deps.storage.replay,
    minted: deps.minted,
    matchRule: (identity, namedRule) => {
      const selection = selectRule(deps.policy(), { issuerId: identity.issuerId, claims: identity.claims, namedRule })
      if (selection.ok) return { ok: true, rule: selection.rule.id, principal: selection.principal }
      return { ok: false, reason: selection.decision.reasons.map((r) => r.code).join(',') }
    },
    isRevoked: (identity, principal) => isRevoked(deps.revocations, identity, principal),
    ...(config.gatewayTokens.organizationId !== undefined ? { organizationId: config.gatewayTokens.organizationId } : {}),
    ...(saml ? { saml } : {}),
    onEvent: (event) => {
      deps.logger.info({ exchange: event }, event.type)
      void recordExchange(deps, event)
    },
  })
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
    deps.logger.error({ detail: (error as Error).message }, 'token exchange could not be recorded in the audit')
  }
}

export { GATEWAY_ISSUER_ID }
