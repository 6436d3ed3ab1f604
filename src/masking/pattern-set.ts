import { Automaton, type AutomatonLimits } from './regex/dfa.js'
import { NfaBuilder, isNullable } from './regex/nfa.js'
import { SearchDfa } from './regex/search-dfa.js'
import { minLength, parseRegex, RegexSyntaxError } from './regex/parse.js'

/** One thing to find: a built-in detector or a custom pattern from the config. */
export interface PatternSpec {
  readonly name: string
  /** Source in the engine's syntax (JavaScript regex syntax without backtracking constructs). */
  readonly regex: string
  /** Longest match, in UTF-16 code units; also the longest text a stream may hold back for it. */
  readonly maxLength: number
  /** Checksum or shape check on a candidate (Luhn, mod-97…): false drops the candidate. */
  readonly validate?: (match: string) => boolean
}

/** A compiled group of patterns sharing one automaton: compiled once, used by every request. */
export interface PatternSet {
  readonly automaton: Automaton
  /** The prefilter: where no match can end, the scanner skips the runs (see `regex/search-dfa.ts`). */
  readonly search: SearchDfa
  readonly names: readonly string[]
  readonly maxLen: readonly number[]
  readonly validators: ReadonlyArray<((match: string) => boolean) | undefined>
  /** Replacement text per pattern, built once. */
  readonly replacements: readonly string[]
  readonly maxHoldBack: number
}

export interface PatternProblem {
  readonly name: string
  readonly message: string
}

export const MAX_PATTERN_LENGTH = 65_536

/** States each DFA caches before dropping its cache (a bound on memory, not on correctness). */
export const DEFAULT_LIMITS: AutomatonLimits = { maxStates: 4096 }
/** The search DFA needs a few states in any generation (idle ones, a source and a target). */
const MIN_SEARCH_STATES = 8

/**
 * Compiles patterns into one automaton; every problem of every pattern is reported, none is
 * silently skipped. Order matters only to break a tie between matches of equal start and length.
 */
export function compilePatternSet(
  specs: readonly PatternSpec[],
  limits: AutomatonLimits = DEFAULT_LIMITS,
): { set?: PatternSet; problems: PatternProblem[] } {
  const builder = new NfaBuilder()
  const problems: PatternProblem[] = []
  const accepted: PatternSpec[] = []
  for (const spec of specs) {
    const problem = checkPattern(builder, spec)
    if (problem) problems.push({ name: spec.name, message: problem })
    else accepted.push(spec)
  }
  if (problems.length > 0) return { problems }
  const nfa = builder.build()
  const maxLen = accepted.map((s) => s.maxLength)
  const automaton = new Automaton(nfa, maxLen, accepted.map((s) => s.validate !== undefined), limits)
  return {
    problems,
    set: {
      automaton,
      search: new SearchDfa(automaton, Math.max(MIN_SEARCH_STATES, limits.maxStates)),
      names: accepted.map((s) => s.name),
      maxLen,
      validators: accepted.map((s) => s.validate),
      replacements: accepted.map((s) => `[REDACTED:${s.name}]`),
      maxHoldBack: Math.max(0, ...maxLen),
    },
  }
}

function checkPattern(builder: NfaBuilder, spec: PatternSpec): string | undefined {
  if (!Number.isInteger(spec.maxLength) || spec.maxLength < 1 || spec.maxLength > MAX_PATTERN_LENGTH) {
    return `maxLength must be an integer between 1 and ${MAX_PATTERN_LENGTH}`
  }
  try {
    const node = parseRegex(spec.regex)
    const shortest = minLength(node)
    if (shortest > spec.maxLength) {
      return `can never match within maxLength ${spec.maxLength}: its shortest match has ${shortest} characters`
    }
    const pattern = builder.addPattern(node)
    if (isNullable(builder.build(), pattern)) return 'matches the empty string; every match must consume text'
    return undefined
  } catch (err) {
    if (err instanceof RegexSyntaxError) return err.message
    if (err instanceof RangeError) return 'pattern nested too deeply'
    throw err
  }
}
