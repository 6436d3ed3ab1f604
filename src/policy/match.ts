import { compileCondition, evaluateCondition, type CompiledCondition } from './cel.js'
import { readClaim, type Claims } from './claims.js'
import type { MatchInput } from './input.js'

/** Whether a rule's `match` selects a token, and if not, the first matcher that failed. */
export interface MatchResult {
  readonly matched: boolean
  /** For explain: `subject`, `claim NAME`, `condition is false`, `condition error: …`. */
  readonly because?: string
  /** Set when the condition errored or was not a boolean (workload-identity.md §10 table). */
  readonly conditionError?: string
}

export class PolicyCompileError extends Error {
  override readonly name = 'PolicyCompileError'
}

/**
 * Structural matchers first (subject, then exact claims), then the CEL condition (§10 rule 1). An
 * erroring condition counts as a match for a deny rule (fail closed: a GHES token without
 * `runner_environment` is still denied) and as no match for an allow rule.
 */
export function compileMatch(match: MatchInput, effect: 'allow' | 'deny', ruleId: string): (claims: Claims) => MatchResult {
  const subject = match.subject === undefined ? undefined : compileSubject(match.subject)
  const claims = Object.entries(match.claims ?? {})
  const condition = match.condition === undefined ? undefined : mustCompile(match.condition, ruleId)
  const decide = (tokenClaims: Claims): MatchResult => {
    if (subject && !(typeof tokenClaims.sub === 'string' && subject(tokenClaims.sub))) return { matched: false, because: 'subject' }
    const differing = claims.find(([name, value]) => readClaim(tokenClaims, name) !== value)
    if (differing) return { matched: false, because: `claim ${differing[0]}` }
    if (!condition) return { matched: true }
    const outcome = evaluateCondition(condition, tokenClaims)
    if ('value' in outcome) return outcome.value ? { matched: true } : { matched: false, because: 'condition is false' }
    if (effect === 'deny') return { matched: true, conditionError: outcome.error }
    return { matched: false, because: `condition error: ${outcome.error}`, conditionError: outcome.error }
  }
  if (!condition) return decide
  // The outcome depends on the claims alone, and a cached token's claims are one frozen object:
  // its CEL condition runs once per token, not once per request.
  const decided = new WeakMap<Claims, MatchResult>()
  return function matchRule(tokenClaims) {
    if (!Object.isFrozen(tokenClaims)) return decide(tokenClaims)
    let result = decided.get(tokenClaims)
    if (result === undefined) {
      result = decide(tokenClaims)
      decided.set(tokenClaims, result)
    }
    return result
  }
}

/** Exact, or an explicit prefix ending in `*` (config load checked that it ends at a delimiter). */
function compileSubject(pattern: string): (sub: string) => boolean {
  if (!pattern.endsWith('*')) return (sub) => sub === pattern
  const prefix = pattern.slice(0, -1)
  return (sub) => sub.length > prefix.length && sub.startsWith(prefix)
}

/** Config validation reports a bad condition with its path; reaching here with one is a bug. */
function mustCompile(source: string, ruleId: string): CompiledCondition {
  const compiled = compileCondition(source)
  if (!compiled.ok) throw new PolicyCompileError(`rule ${ruleId}: match.condition: ${compiled.message}`)
  return compiled.program
}
