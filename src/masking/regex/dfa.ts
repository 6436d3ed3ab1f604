import { MAX_UNIT, WORD, setHas } from './charset.js'
import {
  ASSERT_END, ASSERT_NOT_WORD, ASSERT_START, ASSERT_WORD, OP_ASSERT, OP_MATCH, OP_SET, OP_SPLIT, type Nfa,
} from './nfa.js'

/** What the code unit before the current position was: decides `^` and `\b`. */
export const PREV_NON_WORD = 0
export const PREV_WORD = 1
export const PREV_START = 2

/**
 * A lazily built DFA state: the NFA states reached by the last code unit (before the epsilon
 * closure, which depends on the *next* code unit because of `\b` and `$`), plus what the previous
 * unit was. Transitions are memoised per equivalence class of code units.
 */
export interface DfaState {
  readonly kernel: Int32Array
  readonly prev: number
  /** Longest maxLength among the patterns still alive here: a run older than this is over. */
  readonly maxLen: number
  /** Some alive pattern has a validator: runs in this state are never merged (see scanner). */
  readonly validated: boolean
  next: Array<DfaState | undefined>
  /** Patterns (ascending) that match *at* the position where this transition is taken. */
  acc: Array<readonly number[] | null | undefined>
  /** Scratch mark used by the scanner to merge runs that reached the same state at one position. */
  claim: number
}

export interface AutomatonLimits {
  /** Cached DFA states before the cache is dropped and rebuilt (bounds memory, not correctness). */
  readonly maxStates: number
}

export class Automaton {
  /** Equivalence class of every UTF-16 code unit. */
  readonly classOf: Uint16Array
  readonly classCount: number
  /** The pseudo-class "end of text"; its transition only yields accepts. */
  readonly eof: number
  /** 1 when the class consists of word characters (`\w`). */
  readonly wordClass: Uint8Array
  readonly dead: DfaState
  /** Initial states by PREV_* kind. */
  readonly initial: readonly DfaState[]
  /** Incremented once per scanned position by every scanner that shares this automaton. */
  stamp = 0
  private readonly member: Uint8Array[]
  private cache = new Map<string, DfaState>()
  private readonly mark: Int32Array
  private markGen = 0
  private readonly stack: number[] = []

  constructor(
    private readonly nfa: Nfa,
    private readonly patternMaxLen: readonly number[],
    private readonly patternValidated: readonly boolean[],
    private readonly limits: AutomatonLimits = { maxStates: 4096 },
  ) {
    const { classOf, count, representatives } = buildClasses(nfa)
    this.classOf = classOf
    this.classCount = count
    this.eof = count
    this.wordClass = Uint8Array.from(representatives, (u) => (setHas(WORD, u) ? 1 : 0))
    this.member = nfa.sets.map((set) => Uint8Array.from(representatives, (u) => (setHas(set, u) ? 1 : 0)))
    this.mark = new Int32Array(nfa.op.length)
    this.dead = this.makeState(new Int32Array(0), PREV_NON_WORD)
    const starts = Int32Array.from(new Set(nfa.starts)).sort()
    this.initial = [PREV_NON_WORD, PREV_WORD, PREV_START].map((prev) => this.intern(starts, prev))
  }

  /** Computes, caches and returns the successor of `d` on class `cls` (also fills `d.acc[cls]`). */
  transition(d: DfaState, cls: number): DfaState {
    const closure = this.closure(d.kernel, d.prev, cls, false)
    let target = this.dead
    const kernel = this.advance(closure.sets, cls)
    if (kernel.length > 0) target = this.intern(kernel, this.wordClass[cls]!)
    // Written after intern(): a cache drop inside it replaces d's rows, and both must survive.
    d.acc[cls] = closure.accepts.length > 0 ? closure.accepts : null
    d.next[cls] = target
    return target
  }

  get cachedStates(): number {
    return this.cache.size
  }

  /**
   * One step of the unanchored search (`search-dfa.ts`): the threads of `kernel` plus a new thread
   * of every pattern starting here, with no maxLength cut. Says whether any match ends here.
   */
  searchStep(kernel: Int32Array, prev: number, cls: number): { kernel: Int32Array; matchEnds: boolean } {
    const closure = this.closure(kernel, prev, cls, true)
    return { kernel: this.advance(closure.sets, cls), matchEnds: closure.accepts.length > 0 }
  }

  /** The NFA states reached from the SET states `sets` by a unit of class `cls` (sorted, unique). */
  private advance(sets: readonly number[], cls: number): Int32Array {
    if (cls === this.eof || sets.length === 0) return new Int32Array(0)
    const { arg, out1 } = this.nfa
    const gen = ++this.markGen
    const kernel: number[] = []
    for (const s of sets) {
      const target = out1[s]!
      if (this.member[arg[s]!]![cls] === 1 && this.mark[target] !== gen) {
        this.mark[target] = gen
        kernel.push(target)
      }
    }
    return Int32Array.from(kernel).sort()
  }

  /**
   * Epsilon closure of `kernel` (plus every pattern's start when `withStarts`) at a position whose
   * previous unit was `prev` and whose next unit has class `cls`.
   */
  private closure(kernel: Int32Array, prev: number, cls: number, withStarts: boolean): { sets: number[]; accepts: number[] } {
    const { op, out1, out2, arg } = this.nfa
    const nextWord = cls !== this.eof && this.wordClass[cls] === 1
    const prevWord = prev === PREV_WORD
    const gen = ++this.markGen
    const stack = this.stack
    const sets: number[] = []
    const accepts: number[] = []
    for (const s of kernel) stack.push(s)
    if (withStarts) for (const s of this.nfa.starts) stack.push(s)
    while (stack.length > 0) {
      const s = stack.pop()!
      if (this.mark[s] === gen) continue
      this.mark[s] = gen
      switch (op[s]) {
        case OP_SET: sets.push(s); break
        case OP_MATCH: accepts.push(arg[s]!); break
        case OP_SPLIT: stack.push(out2[s]!, out1[s]!); break
        case OP_ASSERT:
          if (assertionHolds(arg[s]!, prev === PREV_START, cls === this.eof, prevWord, nextWord)) stack.push(out1[s]!)
          break
      }
    }
    accepts.sort((a, b) => a - b)
    return { sets, accepts }
  }

  private intern(kernel: Int32Array, prev: number): DfaState {
    const key = `${prev}|${kernel.join(',')}`
    const hit = this.cache.get(key)
    if (hit) return hit
    if (this.cache.size >= this.limits.maxStates) this.dropCache()
    const state = this.makeState(kernel, prev)
    this.cache.set(key, state)
    return state
  }

  /**
   * Drops every cached transition. States still held by running scanners stay valid (they keep
   * their kernel and recompute transitions on demand), so this bounds memory without changing
   * any result — the RE2 strategy for a DFA cache that fills up.
   */
  private dropCache(): void {
    for (const state of this.cache.values()) {
      state.next = new Array<DfaState | undefined>(this.classCount + 1)
      state.acc = new Array<readonly number[] | null | undefined>(this.classCount + 1)
    }
    this.cache = new Map()
    // The initial states must stay reachable through the cache; they are re-added lazily by identity.
    for (const init of this.initial ?? []) this.cache.set(`${init.prev}|${init.kernel.join(',')}`, init)
  }

  private makeState(kernel: Int32Array, prev: number): DfaState {
    let maxLen = 0
    let validated = false
    for (const s of kernel) {
      const owner = this.nfa.owner[s]!
      maxLen = Math.max(maxLen, this.patternMaxLen[owner]!)
      validated ||= this.patternValidated[owner]!
    }
    return {
      kernel, prev, maxLen, validated,
      next: new Array<DfaState | undefined>(this.classCount + 1),
      acc: new Array<readonly number[] | null | undefined>(this.classCount + 1),
      claim: -1,
    }
  }
}

function assertionHolds(code: number, atStart: boolean, atEnd: boolean, prevWord: boolean, nextWord: boolean): boolean {
  switch (code) {
    case ASSERT_START: return atStart
    case ASSERT_END: return atEnd
    case ASSERT_WORD: return prevWord !== nextWord
    case ASSERT_NOT_WORD: return prevWord === nextWord
    default: return false
  }
}

/**
 * Splits the code-unit space into classes that no set (nor `\w`, for `\b`) distinguishes, so a
 * DFA row has one entry per class instead of 65 536.
 */
function buildClasses(nfa: Nfa): { classOf: Uint16Array; count: number; representatives: number[] } {
  const cuts = new Set<number>([0, MAX_UNIT + 1])
  for (const set of [...nfa.sets, WORD]) {
    for (let i = 0; i < set.length; i += 2) {
      cuts.add(set[i]!)
      cuts.add(set[i + 1]! + 1)
    }
  }
  const bounds = [...cuts].sort((a, b) => a - b)
  const classOf = new Uint16Array(MAX_UNIT + 1)
  const representatives: number[] = []
  for (let k = 0; k + 1 < bounds.length; k++) {
    classOf.fill(k, bounds[k]!, bounds[k + 1]!)
    representatives.push(bounds[k]!)
  }
  return { classOf, count: representatives.length, representatives }
}
