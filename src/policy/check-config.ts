import { compileCondition } from './cel.js'
import { criteria } from './criteria/index.js'
import type { PolicySource } from './input.js'

/** Same shape as config's ConfigProblem; `path` is from the config root. */
export interface PolicyConfigProblem {
  readonly path: (string | number)[]
  readonly message: string
  readonly hint?: string
}

/**
 * Every policy problem in `rules:` that needs policy's own knowledge: CEL conditions (syntax, limits,
 * unknown variables, constant allow conditions), skill references, MCP prefixes. Pure and complete:
 * it never stops at the first problem. `config validate` reports these with their paths.
 *
 * @example checkPolicyConfig({ rules, skills }) // [{ path: ['rules', 0, 'match', 'condition'], message: 'CEL syntax error: …' }]
 */
export function checkPolicyConfig(source: PolicySource): PolicyConfigProblem[] {
  const problems: PolicyConfigProblem[] = []
  source.rules.forEach((rule, index) => {
    const at = ['rules', index]
    if (rule.match.condition !== undefined) {
      const compiled = compileCondition(rule.match.condition)
      if (!compiled.ok) problems.push({ path: [...at, 'match', 'condition'], message: compiled.message, hint: 'conditions are CEL over claims, e.g. claims.workflow == "release"' })
      else if (!compiled.program.readsClaims && rule.effect === 'allow') {
        problems.push({ path: [...at, 'match', 'condition'], message: 'the condition never reads claims: it is constant and identifies nobody' })
      }
    }
    const allow = rule.allow
    if (allow === undefined) return
    for (const criterion of Object.values(criteria)) {
      for (const problem of criterion.validate?.(allow, source.skills) ?? []) {
        problems.push({ path: [...at, 'allow', ...problem.path], message: problem.message, ...(problem.hint ? { hint: problem.hint } : {}) })
      }
    }
  })
  return problems
}
