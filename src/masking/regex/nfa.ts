import type { CodeUnitSet } from './charset.js'
import { RegexSyntaxError, type Assertion, type RegexNode } from './parse.js'

/**
 * Thompson NFA for several patterns at once (each pattern has its own start and its own MATCH
 * state). No backtracking ever happens on it: the lazy DFA in `dfa.ts` simulates state sets, so
 * `(a+)+$` costs the same per character as `a`.
 */
export const OP_SET = 0
export const OP_SPLIT = 1
export const OP_ASSERT = 2
export const OP_MATCH = 3

export const ASSERT_START = 0
export const ASSERT_END = 1
export const ASSERT_WORD = 2
export const ASSERT_NOT_WORD = 3

const ASSERTION_CODES: Readonly<Record<Assertion, number>> = {
  start: ASSERT_START,
  end: ASSERT_END,
  'word-boundary': ASSERT_WORD,
  'not-word-boundary': ASSERT_NOT_WORD,
}

/** Per-pattern bound on NFA states after expanding counted repetitions. */
export const MAX_STATES_PER_PATTERN = 20_000

export interface Nfa {
  readonly op: readonly number[]
  /** SET, ASSERT: the next state; SPLIT: first branch. */
  readonly out1: readonly number[]
  /** SPLIT: second branch. */
  readonly out2: readonly number[]
  /** SET: index into `sets`; ASSERT: assertion code; MATCH: pattern index. */
  readonly arg: readonly number[]
  /** Pattern index owning each state (for maxLength and validators per DFA state). */
  readonly owner: readonly number[]
  readonly sets: readonly CodeUnitSet[]
  /** Start state of each pattern, by pattern index. */
  readonly starts: readonly number[]
}

export class NfaBuilder {
  private readonly op: number[] = []
  private readonly out1: number[] = []
  private readonly out2: number[] = []
  private readonly arg: number[] = []
  private readonly owner: number[] = []
  private readonly sets: CodeUnitSet[] = []
  private readonly setIndex = new Map<string, number>()
  private readonly starts: number[] = []
  private pattern = 0
  private budget = 0

  /** Adds one pattern; throws RegexSyntaxError when it expands beyond the state budget. */
  addPattern(node: RegexNode): number {
    this.pattern = this.starts.length
    this.budget = this.op.length + MAX_STATES_PER_PATTERN
    const match = this.add(OP_MATCH, -1, -1, this.pattern)
    const start = this.compile(node, match)
    this.starts.push(start)
    return this.pattern
  }

  build(): Nfa {
    const { op, out1, out2, arg, owner, sets, starts } = this
    return { op, out1, out2, arg, owner, sets, starts }
  }

  private add(op: number, out1: number, out2: number, arg: number): number {
    if (this.op.length >= this.budget) {
      throw new RegexSyntaxError(`pattern too large: more than ${MAX_STATES_PER_PATTERN} states after expanding repetitions`, 0)
    }
    this.op.push(op)
    this.out1.push(out1)
    this.out2.push(out2)
    this.arg.push(arg)
    this.owner.push(this.pattern)
    return this.op.length - 1
  }

  private setId(set: CodeUnitSet): number {
    const key = set.join(',')
    let id = this.setIndex.get(key)
    if (id === undefined) {
      id = this.sets.length
      this.sets.push(set)
      this.setIndex.set(key, id)
    }
    return id
  }

  /** Compiles `node` so that it continues into `next`; returns its entry state. */
  private compile(node: RegexNode, next: number): number {
    switch (node.kind) {
      case 'set':
        return this.add(OP_SET, next, -1, this.setId(node.set))
      case 'assert':
        return this.add(OP_ASSERT, next, -1, ASSERTION_CODES[node.assertion])
      case 'seq': {
        let cur = next
        for (let k = node.items.length - 1; k >= 0; k--) cur = this.compile(node.items[k]!, cur)
        return cur
      }
      case 'alt': {
        let cur = this.compile(node.items[node.items.length - 1]!, next)
        for (let k = node.items.length - 2; k >= 0; k--) cur = this.add(OP_SPLIT, this.compile(node.items[k]!, next), cur, -1)
        return cur
      }
      case 'repeat':
        return this.compileRepeat(node.item, node.min, node.max, next)
    }
  }

  private compileRepeat(item: RegexNode, min: number, max: number, next: number): number {
    let cur = next
    if (max === Infinity) {
      const loop = this.add(OP_SPLIT, -1, next, -1)
      this.out1[loop] = this.compile(item, loop)
      cur = loop
    } else {
      // x{0,k} as nested options: (x(x(x)?)?)? — every copy may stop and continue into `next`.
      for (let k = 0; k < max - min; k++) cur = this.add(OP_SPLIT, this.compile(item, cur), next, -1)
    }
    for (let k = 0; k < min; k++) cur = this.compile(item, cur)
    return cur
  }
}

/** True when the pattern can match the empty string (assertions assumed satisfiable). */
export function isNullable(nfa: Nfa, pattern: number): boolean {
  const seen = new Set<number>()
  const stack = [nfa.starts[pattern]!]
  while (stack.length > 0) {
    const s = stack.pop()!
    if (seen.has(s)) continue
    seen.add(s)
    const op = nfa.op[s]
    if (op === OP_MATCH) return true
    if (op === OP_SPLIT) stack.push(nfa.out1[s]!, nfa.out2[s]!)
    else if (op === OP_ASSERT) stack.push(nfa.out1[s]!)
  }
  return false
}
