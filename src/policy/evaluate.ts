import type { Claims } from './claims.js'
import type { CompiledRule, Policy } from './compile.js'
import { denyDecision, type Decision } from './decision.js'
import type { EndpointName } from './endpoint.js'
import type { Reason } from './reasons.js'
import type { RequestFacts } from './request-facts.js'
import { selectRule } from './select-rule.js'

export interface PolicyInput {
  readonly issuerId: string
  readonly claims: Claims
  readonly endpoint: EndpointName | 'unknown'
  readonly facts: RequestFacts
  /** A rule the client named (`skillgate-rule` header, `federation_rule_id`): only it is evaluated. */
  readonly namedRule?: string
  /**
   * Owner (principal) of each reused container in `facts.containerIds`, looked up by the caller
   * before evaluating (policy does no I/O). Absent, or undefined for an id: owner unknown, denied.
   */
  readonly containerOwner?: (id: string) => string | undefined
}

const noOwner = (): undefined => undefined
const servesV1 = (rule: CompiledRule): boolean => rule.serves.v1

/**
 * Decides a request (SPEC §2 "Policy semantics", workload-identity.md §10): the rule is selected
 * (deny rules first, then exactly one allow rule or the named one), then every criterion of that rule
 * is checked against the request. Pure and total: every outcome is a Decision with its reasons.
 *
 * @example evaluatePolicy(policy, { issuerId: 'github', claims, endpoint: 'messages', facts: extractRequestFacts('messages', body) })
 */
export function evaluatePolicy(policy: Policy, input: PolicyInput): Decision {
  // Object.assign, not `{ ...input, serves }`: why, at indexRow in audit/batch-plan.ts.
  const selection = selectRule(policy, Object.assign({}, input, { serves: servesV1 }))
  if (!selection.ok) return selection.decision
  return checkGrants(selection.rule, selection.principal, selection.notes, input)
}

export interface BoundInput {
  /** The rule and principal a gateway-minted token is bound to (chosen at the exchange). */
  readonly rule: string
  readonly principal: string
  /** The verified claims of the token it was exchanged for, kept at mint time (workload-identity.md §7.3). */
  readonly source: { readonly issuerId: string; readonly claims: Claims }
  readonly endpoint: EndpointName | 'unknown'
  readonly facts: RequestFacts
  readonly containerOwner?: (id: string) => string | undefined
}

/**
 * A gateway token is bound to one rule and principal, but the policy may have changed since the
 * exchange: rule selection runs again over the source claims with the bound rule named, so a deny
 * rule added since, a narrowed `match`, a rule that is gone or changed issuer, or a principal that now
 * maps differently all deny. Then the grants of that rule are checked against the request.
 *
 * @example evaluateGatewayToken(policy, { rule: 'release-notes', principal, source: { issuerId: 'github', claims }, endpoint, facts })
 */
export function evaluateGatewayToken(policy: Policy, input: BoundInput): Decision {
  const selection = selectRule(policy, { issuerId: input.source.issuerId, claims: input.source.claims, namedRule: input.rule })
  if (!selection.ok) return selection.decision
  if (selection.principal !== input.principal) {
    return denyDecision([...selection.notes, { code: 'principal-changed', detail: input.rule }], input.rule)
  }
  return checkGrants(selection.rule, input.principal, selection.notes, input)
}

function checkGrants(rule: CompiledRule, principal: string, notes: readonly Reason[], input: Omit<PolicyInput, 'issuerId' | 'claims'>): Decision {
  const granted: Reason[] = [...notes, { code: 'rule-matched', detail: rule.id }]
  const denied: Reason[] = []
  const grantInput = { endpoint: input.endpoint, facts: input.facts, principal, containerOwner: input.containerOwner ?? noOwner }
  for (const { check } of rule.grants) {
    const result = check(grantInput)
    ;(result.ok ? granted : denied).push(...result.reasons)
  }
  if (denied.length > 0) return denyDecision([...granted, ...denied], rule.id, principal)
  return { effect: 'allow', rule: rule.id, principal, reasons: granted }
}
