/**
 * `POST /v1/oauth/token` (workload-identity.md §7, SPEC §3): a workload assertion in, a short-lived
 * gateway token out, bound to exactly one rule and principal. Written as a list of named steps like
 * node-oidc-provider's token action; each step throws an `ExchangeError` whose public text is generic
 * and whose reason goes to `onEvent`.
 *
 *   parse (syntax, client auth) → resource → organization → verify subject (JWT | SAML)
 *     → match rule → scope → WIF narrowing → revocation → act chain → mint + keep source → single use → respond
 */
import { MAX_ACT_DEPTH, readActChain, type ActClaim } from '../identity/act-chain.js'
import { GATEWAY_TOKEN_CLOCK_SKEW_MS, type MintedGatewayToken } from '../identity/gateway-token.js'
import { TokenError, type VerifiedToken } from '../identity/index.js'
import { ExchangeError, errorResponse, jsonResponse } from './oauth-error.js'
import { parseExchangeRequest, TOKEN_TYPE_ACCESS_TOKEN, type ExchangeRequest } from './parse-request.js'
import { REPLAY_GRACE_MS } from './replay-grace.js'
import { SamlRejectedError } from './saml-error.js'
import type {
  ExchangeContext, ExchangeEvent, ExchangeGrant, ExchangeHttpResponse, ExchangeIssuerPolicy, ExchangeOpening, ExchangeRecordCloser, MintInput, RuleMatch,
  TokenExchangeDeps, TokenExchangeHandler,
} from './types.js'

/** The Claude WIF assertion limit (anthropic-api.md §12.4); the SDK refuses larger ones itself. */
export const MAX_ASSERTION_BYTES = 16 * 1024


/** RFC 8693 §4.1 `act.sub`: who performed the exchange, per wire form. */
const ACTOR: Readonly<Record<ExchangeGrant, string>> = {
  wif: 'workload-federation',
  'jwt-bearer': 'jwt-bearer',
  'token-exchange': 'token-exchange',
}

interface Subject {
  readonly identity: VerifiedToken
  readonly singleUse: boolean
}

type Granted = Extract<RuleMatch, { ok: true }>

/** What every step needs, built once per endpoint. */
interface Endpoint {
  readonly deps: TokenExchangeDeps
  readonly now: () => number
  readonly policies: ReadonlyMap<string, ExchangeIssuerPolicy>
  readonly resources: ReadonlySet<string>
  emit(event: ExchangeEvent): void
}

/**
 * @example
 * const handle = createTokenExchange({ verifier, issuers: [{ id: 'github', singleUse: false }], gatewayTokens,
 *   minted: createMemoryMintedStore(),
 *   replay: storage.replay, matchRule: (identity, rule) => policy.matchForExchange(identity, rule), onEvent: (e) => log.info(e) })
 * const { status, headers, body } = await handle({ contentType: req.headers['content-type'], body, headers: req.headers })
 */
export function createTokenExchange(deps: TokenExchangeDeps): TokenExchangeHandler {
  const endpoint: Endpoint = {
    deps,
    now: deps.now ?? Date.now,
    policies: new Map(deps.issuers.map((issuer) => [issuer.id, issuer])),
    resources: new Set(deps.resources ?? [deps.gatewayTokens.issuer, deps.gatewayTokens.audience]),
    emit(event) {
      try {
        deps.onEvent?.(event)
      } catch {
        // An audit hook failing must not turn into a different token response.
      }
    },
  }
  return async function tokenExchange(httpRequest) {
    const started = endpoint.now()
    let grant: ExchangeGrant | undefined
    try {
      const request = parseExchangeRequest(httpRequest)
      grant = request.grant
      return await exchange(endpoint, request, started)
    } catch (err) {
      const error = err instanceof ExchangeError ? err : new ExchangeError('server_error', 'internal', { detail: err instanceof Error ? err.name : 'unknown' })
      endpoint.emit({
        type: 'exchange.failed', status: error.status, error: error.code, reason: error.reason, durationMs: endpoint.now() - started,
        ...(grant === undefined ? {} : { grant }),
        ...(error.detail === undefined ? {} : { detail: error.detail }),
        ...(error.issuerId === undefined ? {} : { issuerId: error.issuerId }),
        ...(error.rule === undefined ? {} : { rule: error.rule }),
        ...(error.audited === true ? { audited: true } : {}),
        ...(error.subjectVerified === true ? {} : { anonymous: true }),
        ...(httpRequest.clientAddress === undefined ? {} : { clientAddress: httpRequest.clientAddress }),
      })
      return errorResponse(error)
    }
  }
}

async function exchange(endpoint: Endpoint, request: ExchangeRequest, started: number): Promise<ExchangeHttpResponse> {
  const { deps } = endpoint
  for (const resource of request.resources) if (!endpoint.resources.has(resource)) throw new ExchangeError('invalid_target', 'resource')
  if (request.grant === 'wif' && deps.organizationId !== undefined && request.organizationId !== deps.organizationId) {
    throw new ExchangeError('invalid_grant', 'organization')
  }
  const subject = await verifySubject(endpoint, request)
  const issuerId = subject.identity.issuerId
  let rule: string | undefined
  try {
    const match = await matchRule(deps, subject, request)
    rule = match.rule
    const scope = grantScope(request.scopes, match.scope)
    if ((await deps.isRevoked?.(subject.identity, match.principal)) === true) throw new ExchangeError('invalid_grant', 'revoked')
    const sourceAct = delegationChain(subject.identity)
    const { claims } = subject.identity
    const facts = {
      grant: request.grant, issuerId, iss: claims.iss as string, sub: claims.sub as string,
      ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
      ...(sourceAct === undefined ? {} : { act: sourceAct }),
      rule: match.rule, principal: match.principal,
    }
    // The opening is committed before anything takes effect; its completion before the answer.
    const trail = await openTrail(deps, { ...facts, started })
    try {
      // Minted and its source kept before the assertion is spent; a token never returned is harmless.
      const minted = await mintAndKeep(deps, subject.identity, {
        principal: match.principal,
        rule: match.rule,
        client: ACTOR[request.grant],
        source: subject.identity.claims,
        ...(scope === undefined ? {} : { scope }),
        ...(sourceAct === undefined ? {} : { sourceAct }),
      })
      await consume(deps, subject)
      const event: ExchangeEvent = {
        type: 'exchange.succeeded', ...facts, tokenId: minted.claims.jti, expiresIn: minted.expiresIn,
        ...(scope === undefined ? {} : { scope }), durationMs: endpoint.now() - started, ...(trail ? { audited: true } : {}),
      }
      await closeTrail(trail, event)
      endpoint.emit(event)
      return jsonResponse(responseBody(request.grant, minted.token, minted.expiresIn, scope))
    } catch (err) {
      await closeFailedTrail(trail, endpoint, err, { grant: request.grant, issuerId, rule: match.rule, started })
      throw err
    }
  } catch (err) {
    if (err instanceof ExchangeError) {
      err.subjectVerified = true
      err.issuerId ??= issuerId
      if (rule !== undefined) err.rule ??= rule
    }
    throw err
  }
}

/** The opening record, or a 503 when it cannot be committed (nothing minted, nothing spent). */
async function openTrail(deps: TokenExchangeDeps, opening: ExchangeOpening): Promise<ExchangeRecordCloser | undefined> {
  if (deps.openRecord === undefined) return undefined
  try {
    return await deps.openRecord(opening)
  } catch {
    throw new ExchangeError('temporarily_unavailable', 'audit', { detail: 'the opening audit record could not be committed' })
  }
}

/** Commits the completion; when it cannot be, the minted token is never returned. */
async function closeTrail(trail: ExchangeRecordCloser | undefined, event: ExchangeEvent): Promise<void> {
  if (trail === undefined) return
  try {
    await trail(event)
  } catch {
    const error = new ExchangeError('temporarily_unavailable', 'audit', { detail: 'the completion audit record could not be committed' })
    error.audited = true
    throw error
  }
}

async function closeFailedTrail(trail: ExchangeRecordCloser | undefined, endpoint: Endpoint, err: unknown, at: { grant: ExchangeGrant; issuerId: string; rule: string; started: number }): Promise<void> {
  if (trail === undefined || (err instanceof ExchangeError && err.audited === true)) return
  const error = err instanceof ExchangeError ? err : new ExchangeError('server_error', 'internal')
  const event: ExchangeEvent = {
    type: 'exchange.failed', grant: at.grant, status: error.status, error: error.code, reason: error.reason, issuerId: at.issuerId, rule: at.rule,
    durationMs: endpoint.now() - at.started, audited: true,
    ...(error.detail === undefined ? {} : { detail: error.detail }),
  }
  // A completion that cannot be written leaves the record open; it is marked interrupted later.
  await trail(event).catch(() => undefined)
  if (err instanceof ExchangeError) err.audited = true
}

async function verifySubject(endpoint: Endpoint, request: ExchangeRequest): Promise<Subject> {
  const { deps } = endpoint
  if (request.subjectKind === 'saml2') {
    if (deps.saml === undefined) throw new ExchangeError('invalid_request', 'subject_token_type', { detail: 'SAML is not configured' })
    try {
      // SAML assertions are always single use by ID until NotOnOrAfter (workload-identity.md §8).
      return { identity: await deps.saml.verify(request.subjectToken), singleUse: true }
    } catch (err) {
      if (err instanceof SamlRejectedError) throw new ExchangeError('invalid_grant', `saml:${err.reason}`, withIssuer(err.issuerId))
      throw err
    }
  }
  let identity: VerifiedToken
  try {
    identity = await deps.verifier.verify(request.subjectToken, { maxTokenBytes: MAX_ASSERTION_BYTES })
  } catch (err) {
    if (!TokenError.is(err)) throw err
    const code = err.reason === 'issuer_unavailable' ? 'temporarily_unavailable' : 'invalid_grant'
    throw new ExchangeError(code, `token:${err.reason}`, { ...withIssuer(err.issuerId), ...(err.claim === undefined ? {} : { detail: err.claim }) })
  }
  const policy = endpoint.policies.get(identity.issuerId)
  if (policy === undefined) throw new ExchangeError('invalid_grant', 'issuer_not_exchangeable', withIssuer(identity.issuerId))
  return { identity, singleUse: policy.singleUse }
}

async function matchRule(deps: TokenExchangeDeps, subject: Subject, request: ExchangeRequest): Promise<Granted> {
  const context: ExchangeContext = {
    grant: request.grant,
    resources: request.resources,
    ...(request.serviceAccountId === undefined ? {} : { serviceAccountId: request.serviceAccountId }),
    ...(request.workspaceId === undefined ? {} : { workspaceId: request.workspaceId }),
  }
  const match = await deps.matchRule(subject.identity, request.namedRule, context)
  if (!match.ok) throw new ExchangeError('invalid_grant', 'no_rule', { detail: match.reason })
  // Only the named rule may be granted (workload-identity.md §7.2: no first-match surprises).
  if (request.namedRule !== undefined && match.rule !== request.namedRule) throw new ExchangeError('invalid_grant', 'rule_mismatch')
  const narrowed = (value: string | undefined, allowed: readonly string[] | undefined) => value === undefined || (allowed ?? []).includes(value)
  if (!narrowed(request.serviceAccountId, match.serviceAccountIds)) throw new ExchangeError('invalid_grant', 'service_account', { detail: match.rule })
  if (!narrowed(request.workspaceId, match.workspaceIds)) throw new ExchangeError('invalid_grant', 'workspace', { detail: match.rule })
  return match
}

/** RFC 8693 §4.1: the subject's own `act` chain goes under the minted token's `act`, which adds one level. */
function delegationChain(identity: VerifiedToken): ActClaim | undefined {
  const chain = readActChain(identity.claims.act, MAX_ACT_DEPTH - 1)
  if (chain === 'invalid') throw new ExchangeError('invalid_grant', 'act_chain', { detail: `act must be nested objects with a string sub, at most ${MAX_ACT_DEPTH - 1} deep` })
  return chain
}

/**
 * Every live gateway token has its source's full verified claims in the store, so `/v1` can apply
 * today's deny rules and `match` to it; a token whose source could not be kept is never handed out.
 */
async function mintAndKeep(deps: TokenExchangeDeps, identity: VerifiedToken, input: MintInput): Promise<MintedGatewayToken> {
  const minted = await deps.gatewayTokens.mint(input)
  try {
    await deps.minted.put(minted.claims.jti, { issuerId: identity.issuerId, claims: identity.claims }, new Date(minted.claims.exp * 1000 + GATEWAY_TOKEN_CLOCK_SKEW_MS))
  } catch {
    throw new ExchangeError('temporarily_unavailable', 'minted_store')
  }
  return minted
}

/** Single use (workload-identity.md §6): `(iss, jti)` until the assertion's `exp`; a replay is invalid_grant. */
async function consume(deps: TokenExchangeDeps, subject: Subject): Promise<void> {
  if (!subject.singleUse) return
  const { iss, jti, exp } = subject.identity.claims
  if (typeof jti !== 'string' || jti === '') throw new ExchangeError('invalid_grant', 'token:claims', { detail: 'jti' })
  let first: boolean
  try {
    first = await deps.replay.useOnce(iss as string, jti, new Date((exp as number) * 1000 + REPLAY_GRACE_MS))
  } catch {
    throw new ExchangeError('temporarily_unavailable', 'replay_store')
  }
  if (!first) throw new ExchangeError('invalid_grant', 'replay')
}

function withIssuer(issuerId: string | undefined): { issuerId?: string } {
  return issuerId === undefined ? {} : { issuerId }
}

/**
 * RFC 8693 §2.1 / RFC 6749 §3.3: requested ⊆ the rule's scopes, else invalid_scope; nothing requested
 * means the rule's scopes, never "all" (workload-identity.md §5 "missing scope").
 */
function grantScope(requested: readonly string[] | undefined, ruleScope: string | undefined): string | undefined {
  const allowed = new Set((ruleScope ?? '').split(' ').filter((s) => s !== ''))
  if (requested === undefined) return allowed.size === 0 ? undefined : [...allowed].join(' ')
  if (!requested.every((scope) => allowed.has(scope))) throw new ExchangeError('invalid_scope', 'scope_not_allowed')
  return requested.length === 0 ? undefined : requested.join(' ')
}

function responseBody(grant: ExchangeGrant, accessToken: string, expiresIn: number, scope: string | undefined): Record<string, unknown> {
  // Claude WIF clients expect exactly {access_token, token_type, expires_in} (anthropic-api.md §12.3).
  if (grant === 'wif') return { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn }
  return {
    access_token: accessToken,
    // RFC 8693 §2.2.1; RFC 7523 responses are plain RFC 6749 §5.1 ones.
    ...(grant === 'token-exchange' ? { issued_token_type: TOKEN_TYPE_ACCESS_TOKEN } : {}),
    token_type: 'Bearer',
    expires_in: expiresIn,
    ...(scope === undefined ? {} : { scope }),
  }
}
