import type { RuleConfig } from '../config/schema.js'
import type { EndpointName } from './endpoint.js'
import { compileGlob } from './glob.js'

type Claims = Readonly<Record<string, unknown>>

/** A rule turned into matchers once, at load; evaluation never parses config. */
export interface CompiledRule {
  readonly id: string
  readonly issuer: string
  readonly effect: 'allow' | 'deny'
  readonly matches: (claims: Claims) => boolean
  readonly principal: (claims: Claims) => string | undefined
  readonly endpoints: ReadonlySet<EndpointName>
  readonly modelGranted: (model: string) => boolean
}

export interface Policy {
  readonly rulesByIssuer: ReadonlyMap<string, readonly CompiledRule[]>
  readonly rulesById: ReadonlyMap<string, CompiledRule>
}

export function compilePolicy(rules: readonly RuleConfig[]): Policy {
  const compiled = rules.map(compileRule)
  const rulesByIssuer = new Map<string, CompiledRule[]>()
  for (const rule of compiled) rulesByIssuer.set(rule.issuer, [...(rulesByIssuer.get(rule.issuer) ?? []), rule])
  return { rulesByIssuer, rulesById: new Map(compiled.map((r) => [r.id, r])) }
}

function compileRule(rule: RuleConfig): CompiledRule {
  const subject = rule.match.subject === undefined ? undefined : compileSubject(rule.match.subject)
  const claims = Object.entries(rule.match.claims ?? {})
  const modelMatchers = (rule.allow?.models ?? []).map(compileGlob)
  return {
    id: rule.id,
    issuer: rule.issuer,
    effect: rule.effect,
    matches: (tokenClaims) =>
      (subject === undefined || (typeof tokenClaims.sub === 'string' && subject(tokenClaims.sub))) &&
      claims.every(([name, value]) => readClaim(tokenClaims, name) === value),
    principal: compilePrincipal(rule.principal),
    endpoints: new Set(rule.allow?.endpoints ?? []),
    modelGranted: (model) => modelMatchers.some((match) => match(model)),
  }
}

/** Exact, or an explicit prefix ending in `*` (config load checked that it ends at a delimiter). */
function compileSubject(pattern: string): (sub: string) => boolean {
  if (!pattern.endsWith('*')) return (sub) => sub === pattern
  const prefix = pattern.slice(0, -1)
  return (sub) => sub.length > prefix.length && sub.startsWith(prefix)
}

/** `gha:{repository_owner_id}/{repository_id}`; a missing or non-scalar claim yields no principal. */
function compilePrincipal(template: string | undefined): (claims: Claims) => string | undefined {
  if (template === undefined) return (claims) => (typeof claims.sub === 'string' ? claims.sub : undefined)
  const parts = template.split(/(\{[^{}]+\})/)
  return function buildPrincipal(claims) {
    let out = ''
    for (const part of parts) {
      if (!part.startsWith('{')) {
        out += part
        continue
      }
      const value = readClaim(claims, part.slice(1, -1))
      if (typeof value === 'string' && value !== '') out += value
      else if (typeof value === 'number' && Number.isFinite(value)) out += String(value)
      else return undefined
    }
    return out
  }
}

/**
 * A claim by exact name, else a dotted path into nested objects where a key may itself contain dots
 * (`kubernetes.io.serviceaccount.uid` reads `claims["kubernetes.io"].serviceaccount.uid`): at each
 * level the longest key that is a prefix of the rest of the path, ending at a dot, wins.
 */
export function readClaim(claims: Claims, name: string): unknown {
  let current: unknown = claims
  let rest = name
  while (rest !== '') {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined
    const object = current as Record<string, unknown>
    if (Object.hasOwn(object, rest)) return object[rest]
    let key = ''
    for (let dot = rest.lastIndexOf('.'); dot > 0; dot = rest.lastIndexOf('.', dot - 1)) {
      if (Object.hasOwn(object, rest.slice(0, dot))) {
        key = rest.slice(0, dot)
        break
      }
    }
    if (key === '') return undefined
    current = object[key]
    rest = rest.slice(key.length + 1)
  }
  return current
}
