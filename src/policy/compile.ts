import { checkPolicyConfig } from './check-config.js'
import { compilePrincipal, type Claims } from './claims.js'
import { criteria, criterionOrder, type GrantCheck } from './criteria/index.js'
import type { RuleInput, SkillCatalog } from './input.js'
import { compileMatch, PolicyCompileError, type MatchResult } from './match.js'
import type { CriterionName } from './reasons.js'

/** A rule turned into matchers and checks once, at load; evaluation never parses config. */
export interface CompiledRule {
  readonly id: string
  readonly issuer: string
  readonly effect: 'allow' | 'deny'
  readonly match: (claims: Claims) => MatchResult
  readonly principal: (claims: Claims) => string | undefined
  /** One check per criterion, in registry order; empty for a deny rule. */
  readonly grants: readonly { readonly criterion: CriterionName; readonly check: GrantCheck }[]
  /** Where the rule grants anything: `/v1` (some endpoint) and the gateway MCP servers of `allow.mcp`. */
  readonly serves: { readonly v1: boolean; readonly mcp: ReadonlySet<string> }
}

export interface Policy {
  /** Rules of each issuer id, in config order. */
  readonly rulesByIssuer: ReadonlyMap<string, readonly CompiledRule[]>
  readonly rulesById: ReadonlyMap<string, CompiledRule>
}

/**
 * Compiles `rules:` against the `skills:` catalog. Config validation (`checkPolicyConfig`) reports
 * problems with their paths first; a policy that still has one throws here, at boot, rather than
 * running with a rule that can never apply as written.
 *
 * @example compilePolicy(config.rules, config.skills)
 */
export function compilePolicy(rules: readonly RuleInput[], skills: SkillCatalog): Policy {
  const problems = checkPolicyConfig({ rules, skills })
  if (problems.length > 0) {
    throw new PolicyCompileError(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n'))
  }
  const compiled = rules.map((rule) => compileRule(rule, skills))
  const rulesByIssuer = new Map<string, CompiledRule[]>()
  for (const rule of compiled) rulesByIssuer.set(rule.issuer, [...(rulesByIssuer.get(rule.issuer) ?? []), rule])
  return { rulesByIssuer, rulesById: new Map(compiled.map((r) => [r.id, r])) }
}

function compileRule(rule: RuleInput, skills: SkillCatalog): CompiledRule {
  return {
    id: rule.id,
    issuer: rule.issuer,
    effect: rule.effect,
    match: compileMatch(rule.match, rule.effect, rule.id),
    principal: compilePrincipal(rule.principal),
    // An allow rule without `allow` (a config error) grants nothing: every endpoint is denied.
    grants: rule.effect === 'deny' ? [] : criterionOrder.map((criterion) => ({ criterion, check: criteria[criterion].compile(rule.allow ?? { endpoints: [] }, skills) })),
    serves: { v1: (rule.allow?.endpoints.length ?? 0) > 0, mcp: new Set(Object.keys(rule.allow?.mcp ?? {})) },
  }
}

export { PolicyCompileError }
