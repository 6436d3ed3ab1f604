import type { Claims } from './claims.js'
import type { CompiledRule, Policy } from './compile.js'
import { denyDecision, type Decision } from './decision.js'
import type { Reason } from './reasons.js'

export interface RuleSelectionInput {
  readonly issuerId: string
  readonly claims: Claims
  /** A rule the client named (`skillgate-rule` header, `federation_rule_id`): only it is evaluated. */
  readonly namedRule?: string | undefined
  /**
   * The surface asking (`/v1`, or one gateway MCP server): when several allow rules match, those that
   * grant nothing there (an MCP-only rule on `/v1`, a `/v1` rule on `/mcp/{id}`) step aside.
   */
  readonly serves?: ((rule: CompiledRule) => boolean) | undefined
}

export type RuleSelection =
  | { readonly ok: true; readonly rule: CompiledRule; readonly principal: string; readonly notes: readonly Reason[] }
  | { readonly ok: false; readonly decision: Decision }

/**
 * Which rule speaks for this identity, before any request is looked at (also what the token exchange
 * needs): deny rules first and they win; then exactly one matching allow rule (among several, the
 * ones that serve the asking surface), or the named one; then its principal. `notes` are the condition errors met on the way (workload-identity.md §10).
 *
 * @example selectRule(policy, { issuerId: 'github', claims, namedRule: 'release-notes' })
 */
export function selectRule(policy: Policy, input: RuleSelectionInput): RuleSelection {
  const rules = policy.rulesByIssuer.get(input.issuerId) ?? []
  const notes: Reason[] = []
  const denied = rules.filter((rule) => rule.effect === 'deny' && matches(rule, input.claims, notes))
  const first = denied[0]
  if (first) return refuse([...notes, ...denied.map((rule): Reason => ({ code: 'deny-rule-matched', detail: rule.id }))], first.id)

  let chosen: CompiledRule
  if (input.namedRule !== undefined) {
    const named = policy.rulesById.get(input.namedRule)
    if (!named || named.effect !== 'allow' || named.issuer !== input.issuerId) return refuse([...notes, { code: 'named-rule-unknown', detail: input.namedRule }])
    if (!matches(named, input.claims, notes)) return refuse([...notes, { code: 'named-rule-not-matched', detail: named.id }], named.id)
    chosen = named
  } else {
    const matching = rules.filter((rule) => rule.effect === 'allow' && matches(rule, input.claims, notes))
    // Only a tie-break: a lone match that grants nothing here still decides, so its denial names it.
    const serving = matching.length > 1 && input.serves !== undefined ? matching.filter(input.serves) : []
    const candidates = serving.length > 0 ? serving : matching
    const only = candidates[0]
    if (!only) return refuse([...notes, { code: 'no-rule-matched' }])
    if (candidates.length > 1) return refuse([...notes, { code: 'ambiguous-rules', detail: candidates.map((r) => r.id).join(', ') }])
    chosen = only
  }
  const principal = chosen.principal(input.claims)
  if (principal === undefined) return refuse([...notes, { code: 'principal-claim-missing', detail: chosen.id }], chosen.id)
  return { ok: true, rule: chosen, principal, notes }
}

function matches(rule: CompiledRule, claims: Claims, notes: Reason[]): boolean {
  const result = rule.match(claims)
  if (result.conditionError !== undefined) notes.push({ code: 'condition-error', detail: `${rule.id}: ${result.conditionError}` })
  return result.matched
}

const refuse = (reasons: Reason[], rule?: string): RuleSelection => ({ ok: false, decision: denyDecision(reasons, rule) })
