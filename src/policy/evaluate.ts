import type { Decision } from './decision.js'
import type { CompiledRule, Policy } from './compile.js'
import type { EndpointName } from './endpoint.js'
import type { Reason } from './reasons.js'
import type { RequestFacts } from './request-facts.js'

export interface PolicyInput {
  readonly issuerId: string
  readonly claims: Readonly<Record<string, unknown>>
  readonly endpoint: EndpointName | 'unknown'
  readonly facts: RequestFacts
  /** A rule the client named (`skillgate-rule` header, `federation_rule_id`): only it is evaluated. */
  readonly namedRule?: string
}

const deny = (reasons: Reason[], rule?: string): Decision => ({ effect: 'deny', reasons, ...(rule ? { rule } : {}) })

/**
 * Decides a request (SPEC §2 "Policy semantics"): deny rules first and they win; exactly one allow
 * rule must match, or the one the client named; then the rule's grants are checked against the
 * request. Pure and total: every outcome is a Decision with its reasons.
 *
 * @example evaluatePolicy(policy, { issuerId: 'github', claims, endpoint: 'messages', facts: { models: ['claude-sonnet-4-6'] } })
 */
export function evaluatePolicy(policy: Policy, input: PolicyInput): Decision {
  const rules = policy.rulesByIssuer.get(input.issuerId) ?? []
  const denied = rules.find((rule) => rule.effect === 'deny' && rule.matches(input.claims))
  if (denied) return deny([{ code: 'deny-rule-matched', detail: denied.id }], denied.id)

  const chosen = chooseAllowRule(policy, rules, input)
  if ('reasons' in chosen) return chosen
  const principal = chosen.principal(input.claims)
  if (principal === undefined) return deny([{ code: 'principal-claim-missing', detail: chosen.id }], chosen.id)

  const reasons: Reason[] = [{ code: 'rule-matched', detail: chosen.id }]
  const grantFailure = checkGrants(chosen, input, reasons)
  if (grantFailure) return deny([...reasons, grantFailure], chosen.id)
  return { effect: 'allow', rule: chosen.id, principal, reasons }
}

function chooseAllowRule(policy: Policy, rules: readonly CompiledRule[], input: PolicyInput): CompiledRule | Decision {
  if (input.namedRule !== undefined) {
    const named = policy.rulesById.get(input.namedRule)
    if (!named || named.effect !== 'allow' || named.issuer !== input.issuerId) {
      return deny([{ code: 'named-rule-unknown', detail: input.namedRule }])
    }
    return named.matches(input.claims) ? named : deny([{ code: 'named-rule-not-matched', detail: named.id }], named.id)
  }
  const matching = rules.filter((rule) => rule.effect === 'allow' && rule.matches(input.claims))
  const only = matching[0]
  if (!only) return deny([{ code: 'no-rule-matched' }])
  if (matching.length > 1) return deny([{ code: 'ambiguous-rules', detail: matching.map((r) => r.id).join(', ') }])
  return only
}

function checkGrants(rule: CompiledRule, input: PolicyInput, reasons: Reason[]): Reason | undefined {
  if (input.endpoint === 'unknown' || !rule.endpoints.has(input.endpoint)) {
    return { code: 'endpoint-not-granted', detail: input.endpoint }
  }
  reasons.push({ code: 'endpoint-granted', detail: input.endpoint })
  for (const model of input.facts.models) {
    if (model === '') return { code: 'model-missing' }
    if (!rule.modelGranted(model)) return { code: 'model-not-granted', detail: model }
  }
  if (input.facts.models.length > 0) reasons.push({ code: 'model-granted', detail: [...new Set(input.facts.models)].join(', ') })
  return undefined
}
