import { GatewayError } from '../errors/gateway-error.js'
import type { GatewayErrorCode } from '../errors/codes.js'
import type { Policy } from '../policy/compile.js'
import type { ContainerOwners } from '../policy/container-owners.js'
import type { Decision } from '../policy/decision.js'
import { describeReason } from '../policy/describe.js'
import { evaluateBoundRule, evaluatePolicy } from '../policy/evaluate.js'
import { reasonInfo, type CriterionName, type ReasonCode } from '../policy/reasons.js'
import { extractRequestFacts } from '../policy/request-facts.js'
import { GATEWAY_ISSUER_ID } from '../identity/gateway-token.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Stage } from '../pipeline/stage.js'
import { rejectRevoked } from './authenticate.js'

/** Evaluates policy for the authenticated identity and this request; a deny ends it with 403. */
export const authorize = (policy: Policy, containers: ContainerOwners, revocations: RevocationCache): Stage =>
  async function authorize(ctx, next) {
    const identity = ctx.identity
    if (!identity) throw new GatewayError('GW_INTERNAL', { detail: 'authorize ran before authenticate' })
    const endpoint = ctx.endpoint?.name ?? 'unknown'
    const named = ctx.headers['skillgate-rule']
    const facts = extractRequestFacts(endpoint, ctx.json)
    const containerOwner = (id: string) => containers.ownerOf(id)
    ctx.decision =
      identity.issuerId === GATEWAY_ISSUER_ID
        ? evaluateBoundRule(policy, { rule: String(identity.claims.rule), principal: String(identity.claims.sub), endpoint, facts, containerOwner })
        : evaluatePolicy(policy, { issuerId: identity.issuerId, claims: identity.claims, endpoint, facts, containerOwner, ...(typeof named === 'string' ? { namedRule: named } : {}) })
    if (ctx.decision.effect === 'deny') throw decisionToError(ctx.decision)
    // Revocation applies to the mapped principal (workload-identity.md §10 rule 8).
    const iat = typeof identity.claims.iat === 'number' ? identity.claims.iat : undefined
    if (ctx.decision.principal !== undefined) rejectRevoked(revocations.checkPrincipal(ctx.decision.principal, iat))
    return next()
  }

const byCriterion: Record<CriterionName, GatewayErrorCode> = {
  endpoint: 'GW_AUTHZ_ENDPOINT_DENIED',
  model: 'GW_AUTHZ_MODEL_DENIED',
  skill: 'GW_AUTHZ_SKILL_DENIED',
  'client-skill': 'GW_AUTHZ_SKILL_DENIED',
  tool: 'GW_AUTHZ_TOOL_DENIED',
  'mcp-server': 'GW_AUTHZ_TOOL_DENIED',
  'max-tokens': 'GW_AUTHZ_MAX_TOKENS',
  container: 'GW_AUTHZ_CONTAINER_DENIED',
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
  const parts = [decision.rule && `rule ${decision.rule}`, reason && describeReason(reason)].filter(Boolean)
  return new GatewayError(code, { publicDetail: truncate(parts.join('; ')), detail: JSON.stringify(decision.reasons) })
}

const truncate = (text: string) => (text.length > 300 ? `${text.slice(0, 297)}...` : text)
