import { celEnv, celList, celMap, isCelError, parse, plan, type CelInput } from '@bufbuild/cel'
import { normalizeClaims } from '../identity/claims.js'

type Claims = Readonly<Record<string, unknown>>

/**
 * Limits on a rule condition. `@bufbuild/cel` has no cost budget like cel-go (workload-identity.md
 * §10), so size is bounded here, at load: the parser is recursive descent (2 000 nested parentheses
 * overflow the stack), and a comprehension inside a comprehension over a list claim is quadratic
 * (three levels over 1 000 groups ran for minutes).
 */
export const conditionLimits = {
  maxLength: 4_096,
  /** Brackets of any kind open at once, counted on the source text before parsing. */
  maxBracketNesting: 32,
  /** Depth of the parsed expression tree. */
  maxDepth: 64,
  /** `all`, `exists`, `exists_one`, `map`, `filter` inside one another. */
  maxComprehensionNesting: 1,
} as const

/** The verified claims, as issued. */
export const conditionBinding = 'claims'
/**
 * A normalised view of the same claims (issue item "claims to principal"): `token.scopes` joins
 * `scope` (space-separated) and `scp` (array), `token.roles` joins `roles` and Keycloak
 * `realm_access.roles`, `token.groups`, and `token.booleans` reads string booleans ("true").
 */
export const viewBinding = 'token'

/** Identifiers CEL resolves without a binding: type names used with `type(x) == string`. */
const typeIdentifiers = new Set(['bool', 'bytes', 'double', 'dyn', 'int', 'list', 'map', 'null_type', 'string', 'type', 'uint'])

type ParsedExpr = ReturnType<typeof parse>['expr']
/** `extra`: values of the extra bindings named at compile time (MCP conditions: `tool`, `arguments`). */
type Program = (claims: Claims, extra?: Readonly<Record<string, unknown>>) => unknown

export interface CompiledCondition {
  readonly source: string
  readonly evaluate: Program
  /** False when the expression never reads `claims`: it is constant and identifies nobody. */
  readonly readsClaims: boolean
}

export type CompileConditionResult = { readonly ok: true; readonly program: CompiledCondition } | { readonly ok: false; readonly message: string }

/** The three outcomes of workload-identity.md §10; `error` covers non-boolean results too. */
export type ConditionOutcome = { readonly value: boolean } | { readonly error: string }

const env = celEnv()

/**
 * Parses and plans a rule condition once, at load. A syntax error, an unknown variable or a limit
 * is returned as a message for the config report (path `rules[i].match.condition`), never thrown.
 *
 * @example compileCondition('claims.workflow == "release"') // { ok: true, program }
 */
export function compileCondition(source: string, extraBindings: readonly string[] = []): CompileConditionResult {
  if (source.length > conditionLimits.maxLength) return fail(`the condition is longer than ${conditionLimits.maxLength} characters`)
  const nesting = bracketNesting(source)
  if (nesting > conditionLimits.maxBracketNesting) return fail(`brackets nest ${nesting} deep; at most ${conditionLimits.maxBracketNesting}`)
  let parsed: ParsedExpr
  try {
    parsed = parse(source).expr
  } catch (error) {
    return fail(`CEL syntax error: ${error instanceof Error ? error.message.replace(/^<input>:/, 'at ') : 'unparseable'}`)
  }
  const shape = inspectTree(parsed, new Set(extraBindings))
  if (shape.problem !== undefined) return fail(shape.problem)
  let run: (bindings: Record<string, unknown>) => unknown
  try {
    run = plan(env, parsed) as (bindings: Record<string, unknown>) => unknown
  } catch (error) {
    return fail(`CEL error: ${error instanceof Error ? error.message : 'cannot plan the expression'}`)
  }
  // Extra values are copied in first so they can never shadow `claims` or `token` (assigned onto
  // the fresh copy, not spread: why, at indexRow in audit/batch-plan.ts).
  const evaluate: Program = (claims, extra) => {
    const bindings = pick(extra, extraBindings)
    bindings['claims'] = celClaims(claims)
    bindings['token'] = celView(claims)
    return run(bindings)
  }
  return { ok: true, program: { source, evaluate, readsClaims: shape.readsClaims } }
}

const celCopies = new WeakMap<object, CelInput>()
const celViews = new WeakMap<object, CelInput>()

/**
 * The normalised view, made once per claims object (a cached token's claims are one object) and
 * already in CEL's own map and list types: CEL would otherwise rebuild a Map of every member each
 * time a condition reads `token` (see `celValue`).
 */
function celView(claims: Claims): CelInput {
  let view = celViews.get(claims)
  if (view === undefined) {
    const normalized = normalizeClaims(claims)
    view = celValue({ scopes: [...normalized.scopes], roles: [...normalized.roles], groups: [...normalized.groups], booleans: { ...normalized.booleans } }, 0)
    celViews.set(claims, view)
  }
  return view
}

/**
 * Verified claims are frozen, null-prototype objects (no `__proto__` pollution), which
 * `@bufbuild/cel` cannot read: every field access fails. CEL gets a plain-object copy made through
 * JSON, which keeps a `__proto__` member as an ordinary own property; one copy per token, converted
 * once (`celValue`).
 */
function celClaims(claims: Claims): CelInput {
  const plain = Object.getPrototypeOf(claims) === Object.prototype
  // A plain object that may still change is read as it is now, not from a conversion made earlier.
  if (plain && !Object.isFrozen(claims)) return claims as CelInput
  let copy = celCopies.get(claims)
  if (copy === undefined) {
    copy = celValue(plain ? claims : JSON.parse(JSON.stringify(claims)), 0)
    celCopies.set(claims, copy)
  }
  return copy
}

/** Nesting converted ahead; anything deeper is left to CEL, which converts it when read. */
const CEL_VALUE_DEPTH = 32

/**
 * A plain JSON value as CEL's map and list types, the conversion `toCel` of @bufbuild/cel makes on
 * every read of an object (`celMap(new Map(Object.entries(v)))`, `celList(v)`), done once: CEL
 * passes its own types through unchanged, so conditions see the same values. Primitives stay as
 * they are; CEL converts them on read as before.
 */
function celValue(value: unknown, depth: number): CelInput {
  if (depth >= CEL_VALUE_DEPTH || typeof value !== 'object' || value === null) return value as CelInput
  if (Array.isArray(value)) return celList(value.map((item: unknown) => celValue(item, depth + 1)))
  if (Object.getPrototypeOf(value) !== Object.prototype) return value as CelInput
  return celMap(new Map(Object.entries(value).map(([key, item]) => [key, celValue(item, depth + 1)])))
}

function pick(extra: Readonly<Record<string, unknown>> | undefined, names: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {}
  for (const name of names) if (extra !== undefined && Object.prototype.hasOwnProperty.call(extra, name)) picked[name] = extra[name]
  return picked
}

/** Runs a condition; an error or a non-boolean result is an `error` outcome, never an exception. */
export function evaluateCondition(condition: CompiledCondition, claims: Claims, extra?: Readonly<Record<string, unknown>>): ConditionOutcome {
  let result: unknown
  try {
    result = condition.evaluate(claims, extra)
  } catch {
    return { error: 'evaluation error' }
  }
  if (isCelError(result)) return { error: describeCelError(result.message, condition.source) }
  if (typeof result !== 'boolean') return { error: 'non-boolean result' }
  return { value: result }
}

/**
 * CEL messages can quote claim values ("Cannot convert <value> to a BigInt"); reasons must not
 * (reasons.ts), so only shapes known to carry a claim name or nothing are kept. A missing field is
 * named only when the name is written in the condition: `claims.m[claims.x]` would otherwise report
 * the value of `x`.
 */
function describeCelError(message: string, source: string): string {
  const missing = /^field not found: ([A-Za-z0-9_.:/-]{1,64})$/.exec(message)
  if (missing?.[1] !== undefined && source.includes(missing[1])) return `missing claim ${missing[1]}`
  if (missing) return 'missing claim'
  if (message.startsWith('found no matching overload')) return 'type mismatch'
  if (message.startsWith('index ')) return 'index out of range'
  return 'evaluation error'
}

const fail = (message: string): CompileConditionResult => ({ ok: false, message })

/** Deepest bracket nesting outside string literals (quotes, escapes and raw strings approximated). */
function bracketNesting(source: string): number {
  let depth = 0
  let max = 0
  let quote = ''
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]
    if (quote !== '') {
      if (ch === '\\') i++
      else if (ch === quote) quote = ''
      continue
    }
    if (ch === '"' || ch === "'") quote = ch
    else if (ch === '(' || ch === '[' || ch === '{') max = Math.max(max, ++depth)
    else if (ch === ')' || ch === ']' || ch === '}') depth--
  }
  return max
}

interface TreeShape {
  readonly problem?: string
  readonly readsClaims: boolean
}

interface Frame {
  readonly node: unknown
  readonly depth: number
  readonly comprehensions: number
  readonly scope: ReadonlySet<string>
}

/**
 * Walks the parsed tree iteratively (no recursion to overflow): depth, comprehension nesting, and
 * every free identifier, which must be `claims` (a typo such as `claim.x` is a load error, not a
 * condition that errors on every token).
 */
function inspectTree(root: ParsedExpr, extra: ReadonlySet<string>): TreeShape {
  const stack: Frame[] = [{ node: root, depth: 0, comprehensions: 0, scope: new Set() }]
  let readsClaims = false
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { node, depth, comprehensions, scope } = frame
    if (depth > conditionLimits.maxDepth) return { problem: `the expression nests deeper than ${conditionLimits.maxDepth} levels`, readsClaims }
    if (Array.isArray(node)) {
      for (const item of node) stack.push({ node: item, depth, comprehensions, scope })
      continue
    }
    if (!isRecord(node)) continue
    const kind = isRecord(node.exprKind) ? node.exprKind : undefined
    const value = kind && isRecord(kind.value) ? kind.value : undefined
    if (kind?.case === 'identExpr' && value && typeof value.name === 'string') {
      if (value.name === conditionBinding || value.name === viewBinding) readsClaims = true
      else if (!scope.has(value.name) && !typeIdentifiers.has(value.name) && !extra.has(value.name)) {
        const names = [conditionBinding, viewBinding, ...extra].join(', ').replace(/, ([^,]*)$/, ' and $1')
        return { problem: `unknown variable "${value.name}": the bindings are ${names}`, readsClaims }
      }
      continue
    }
    if (kind?.case === 'comprehensionExpr' && value) {
      if (comprehensions + 1 > conditionLimits.maxComprehensionNesting) {
        return { problem: 'a comprehension (all, exists, map, filter) inside another is not allowed: its cost grows with the square of the list', readsClaims }
      }
      pushComprehension(stack, value, frame)
      continue
    }
    const next = kind ? depth + 1 : depth
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: next, comprehensions, scope })
    }
  }
  return { readsClaims }
}

/** Loop variables are bound in the loop parts only, not in the range they iterate over. */
function pushComprehension(stack: Frame[], value: Record<string, unknown>, frame: Frame): void {
  const bound = new Set(frame.scope)
  for (const name of [value.iterVar, value.iterVar2, value.accuVar]) if (typeof name === 'string' && name !== '') bound.add(name)
  const depth = frame.depth + 1
  const inner = frame.comprehensions + 1
  stack.push({ node: value.iterRange, depth, comprehensions: frame.comprehensions, scope: frame.scope })
  stack.push({ node: value.accuInit, depth, comprehensions: frame.comprehensions, scope: frame.scope })
  for (const part of [value.loopCondition, value.loopStep, value.result]) stack.push({ node: part, depth, comprehensions: inner, scope: bound })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
