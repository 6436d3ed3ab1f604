import { GatewayError } from '../errors/gateway-error.js'
import type { GatewayErrorCode } from '../errors/codes.js'
import type { Policy } from '../policy/compile.js'
import type { Decision } from '../policy/decision.js'
import { describeReason } from '../policy/describe.js'
import { evaluateGatewayToken, evaluatePolicy } from '../policy/evaluate.js'
import { reasonInfo, type CriterionName, type ReasonCode } from '../policy/reasons.js'
import type { RequestFacts } from '../policy/request-facts.js'
import { isGatewayToken } from '../identity/gateway-token-verifier.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Stage } from '../pipeline/stage.js'
import type { MintedTokenSource, MintedTokenStore } from '../storage/ports-minted.js'
import type { OwnershipStore } from '../storage/ports-ownership.js'
import { rejectRevoked } from './authenticate.js'

/**
 * Evaluates policy for the authenticated identity and this request; a deny ends it with 403. A gateway
 * token is re-checked against today's rules over the claims of the token it was exchanged for; a token
 * whose source cannot be read is refused (401 unknown, 503 store down), never allowed on its binding alone.
 */
export const authorize = (policy: Policy, owners: Pick<OwnershipStore, 'owners'>, revocations: RevocationCache, minted: MintedTokenStore): Stage =>
  async function authorize(ctx, next) {
    const identity = ctx.identity
    if (!identity) throw new GatewayError('GW_INTERNAL', { detail: 'authorize ran before authenticate' })
    const endpoint = ctx.endpoint?.name ?? 'unknown'
    const named = ctx.headers['skillgate-rule']
    const facts = ctx.facts
    if (!facts) throw new GatewayError('GW_INTERNAL', { detail: 'authorize ran before read-body' })
    const containers = await containerOwners(owners, facts)
    const containerOwner = (id: string) => containers.get(id)
    const source = isGatewayToken(identity) ? await readSource(minted, identity.claims.jti, revocations) : undefined
    ctx.decision = source
      ? evaluateGatewayToken(policy, { rule: String(identity.claims.rule), principal: String(identity.claims.sub), source, endpoint, facts, containerOwner })
      : evaluatePolicy(policy, { issuerId: identity.issuerId, claims: identity.claims, endpoint, facts, containerOwner, ...(typeof named === 'string' ? { namedRule: named } : {}) })
    if (ctx.decision.effect === 'deny') throw decisionToError(ctx.decision)
    // Revocation applies to the mapped principal (workload-identity.md §10 rule 8).
    const iat = typeof identity.claims.iat === 'number' ? identity.claims.iat : undefined
    if (ctx.decision.principal !== undefined) rejectRevoked(revocations.checkPrincipal(ctx.decision.principal, iat))
    return next()
  }

/** Owners of the containers a request reuses, read before policy (which does no I/O); the store down refuses it. */
async function containerOwners(owners: Pick<OwnershipStore, 'owners'>, facts: RequestFacts): Promise<ReadonlyMap<string, string>> {
  if (facts.containerIds.length === 0) return new Map()
  try {
    const found = await owners.owners('container', facts.containerIds)
    return new Map([...found].map(([id, ownership]) => [id, ownership.principal]))
  } catch (error) {
    throw new GatewayError('GW_OWNERSHIP_UNAVAILABLE', { detail: (error as Error).message, cause: error })
  }
}

/** The source a gateway token was exchanged for, itself checked for revocation by its full `iss`, `jti` and issuer id. */
export async function readSource(minted: MintedTokenStore, jti: unknown, revocations: RevocationCache): Promise<MintedTokenSource> {
  let source: MintedTokenSource | undefined
  try {
    source = typeof jti === 'string' ? await minted.get(jti) : undefined
  } catch (error) {
    throw new GatewayError('GW_TOKEN_SOURCES_UNAVAILABLE', { detail: (error as Error).message })
  }
  // Unknown: not minted here (a forged jti cannot be, the signature binds it) or past its expiry and purged. The SDK exchanges again on 401.
  if (source === undefined) throw new GatewayError('GW_AUTHN_INVALID', { detail: 'gateway token source unknown', headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
  const { iss, jti: sourceJti } = source.claims
  rejectRevoked(revocations.checkToken(source.issuerId, String(iss), typeof sourceJti === 'string' ? sourceJti : undefined))
  return source
}

const byCriterion: Record<CriterionName, GatewayErrorCode> = {
  endpoint: 'GW_AUTHZ_ENDPOINT_DENIED',
  model: 'GW_AUTHZ_MODEL_DENIED',
  skill: 'GW_AUTHZ_SKILL_DENIED',
  'client-skill': 'GW_AUTHZ_SKILL_DENIED',
  tool: 'GW_AUTHZ_TOOL_DENIED',
  'mcp-server': 'GW_AUTHZ_TOOL_DENIED',
  'max-tokens': 'GW_AUTHZ_MAX_TOKENS',
  // Another principal's container is answered like an unknown one (SPEC §8): it is not found.
  container: 'GW_OBJECT_NOT_FOUND',
}

const byReason: Partial<Record<ReasonCode, GatewayErrorCode>> = {
  'deny-rule-matched': 'GW_AUTHZ_DENIED',
  'ambiguous-rules': 'GW_AUTHZ_AMBIGUOUS',
}

/** The reason that denied names the error code; the message names the rule and what is missing (SPEC §4). */
export function decisionToError(decision: Decision): GatewayError {
  const reason = decision.deniedBy ?? decision.reasons.at(-1)
  const criterion = reason ? reasonInfo[reason.code].criterion : undefined
  const code = (criterion ? byCriterion[criterion] : reason && byReason[reason.code]) ?? 'GW_AUTHZ_NO_RULE'
  if (code === 'GW_OBJECT_NOT_FOUND') return new GatewayError(code, { publicDetail: truncate(`container ${reason?.detail ?? ''}`), detail: JSON.stringify(decision.reasons) })
  const parts = [decision.rule && `rule ${decision.rule}`, reason && describeReason(reason)].filter(Boolean)
  return new GatewayError(code, { publicDetail: truncate(parts.join('; ')), detail: JSON.stringify(decision.reasons) })
}

const truncate = (text: string) => (text.length > 300 ? `${text.slice(0, 297)}...` : text)
