import { GatewayError } from '../errors/gateway-error.js'
import type { GatewayErrorCode } from '../errors/codes.js'
import type { Policy } from '../policy/compile.js'
import type { Decision } from '../policy/decision.js'
import { evaluatePolicy } from '../policy/evaluate.js'
import type { ReasonCode } from '../policy/reasons.js'
import { extractRequestFacts } from '../policy/request-facts.js'
import type { Stage } from '../pipeline/stage.js'

/** Evaluates policy for the authenticated identity and this request; a deny ends it with 403. */
export const authorize = (policy: Policy): Stage =>
  async function authorize(ctx, next) {
    const identity = ctx.identity
    if (!identity) throw new GatewayError('GW_INTERNAL', { detail: 'authorize ran before authenticate' })
    const endpoint = ctx.endpoint?.name ?? 'unknown'
    const named = ctx.headers['skillgate-rule']
    ctx.decision = evaluatePolicy(policy, {
      issuerId: identity.issuerId,
      claims: identity.claims,
      endpoint,
      facts: extractRequestFacts(endpoint, ctx.json),
      ...(typeof named === 'string' ? { namedRule: named } : {}),
    })
    ctx.log = ctx.log.child({ rule: ctx.decision.rule, principal: ctx.decision.principal })
    if (ctx.decision.effect === 'deny') throw decisionToError(ctx.decision)
    return next()
  }

const reasonCodes: Partial<Record<ReasonCode, GatewayErrorCode>> = {
  'deny-rule-matched': 'GW_AUTHZ_DENIED',
  'ambiguous-rules': 'GW_AUTHZ_AMBIGUOUS',
  'endpoint-not-granted': 'GW_AUTHZ_ENDPOINT_DENIED',
  'model-not-granted': 'GW_AUTHZ_MODEL_DENIED',
  'model-missing': 'GW_AUTHZ_MODEL_DENIED',
}

/** The last reason is the one that denied; the message names it and the rule (SPEC §4). */
export function decisionToError(decision: Decision): GatewayError {
  const last = decision.reasons.at(-1)
  const code = (last && reasonCodes[last.code]) ?? 'GW_AUTHZ_NO_RULE'
  const parts = [decision.rule && `rule ${decision.rule}`, last && describeReason(last.code, last.detail)].filter(Boolean)
  return new GatewayError(code, { publicDetail: truncate(parts.join('; ')), detail: JSON.stringify(decision.reasons) })
}

function describeReason(code: ReasonCode, detail: string | undefined): string {
  switch (code) {
    case 'endpoint-not-granted':
      return detail === 'unknown' ? 'this path is not a Claude API endpoint the gateway grants' : `endpoint ${detail} is not in allow.endpoints`
    case 'model-not-granted':
      return `model ${detail} is not in allow.models`
    case 'model-missing':
      return 'the request names no model'
    case 'named-rule-unknown':
      return `no allow rule "${detail}" for this issuer`
    case 'named-rule-not-matched':
      return 'the named rule does not match this identity'
    case 'principal-claim-missing':
      return 'a claim of the principal template is missing'
    case 'deny-rule-matched':
      return 'a deny rule matches this identity'
    case 'no-rule-matched':
      return 'no allow rule matches this identity'
    case 'ambiguous-rules':
      return `matching rules: ${detail}`
    default:
      return detail ? `${code} ${detail}` : code
  }
}

const truncate = (text: string) => (text.length > 300 ? `${text.slice(0, 297)}...` : text)
