import type { Automaton } from './dfa.js'
import { PREV_NON_WORD, PREV_START, PREV_WORD } from './dfa.js'

/**
 * The unanchored search DFA: every pattern restarted at every position, no maxLength cut. It is the
 * scanner's prefilter. Its state after a code unit is the set of NFA threads still in progress from
 * *any* start, so
 * - no match can end where it does not report one (it is a superset of the scanner's runs), and
 * - where that set is empty ("idle") no run of the scanner is alive either.
 * Between two idle positions with no reported match end, the exact scanner would release the text
 * unchanged; the scanner only runs where a match ends (see `scanner.ts`).
 *
 * Layout: one flat Int32Array, `stride` entries per state (one per code-unit class; the end of the
 * text needs no entry: the scanner's runs are always up to date when it comes). A state is named by its row, the offset of its first entry (`id * stride`), and an entry
 * is `targetRow << 1 | matchEndsHere`, or -1 until computed, so the hot loop is a `charCodeAt`, two
 * typed-array loads, an add and a shift per code unit, and allocates nothing.
 *
 * Ids 0–2 (rows below `idleRows`) are the idle states, one per PREV_* kind (id === kind). When `maxStates`
 * are cached, every cached state is dropped and the generation increases (RE2's strategy: memory
 * stays bounded, time stays linear, results never change); a scanner holding an id from an older
 * generation re-interns it from its kernel.
 */
export const IDLE_STATES = 3
const UNKNOWN = -1
const YES = 1
const NO = 2
const INITIAL_CAPACITY = 64

export class SearchDfa {
  readonly classOf: Uint16Array
  /** Entries per state: one per code-unit class. */
  readonly stride: number
  /** Rows below this are idle states; `row / stride` is then the PREV_* kind. */
  readonly idleRows: number
  table: Int32Array
  /** Bumped whenever the cache is dropped: ids of earlier generations are void. */
  generation = 0
  /** The row of the source state after the last `resolve` (it changes when the cache was dropped). */
  resolvedFrom = 0
  private kernels: Int32Array[] = []
  private prevs: number[] = []
  private ids = new Map<string, number>()
  /** Per state id: whether a match can end at the end of the text (`$`, `\b`), 0 until computed. */
  private endMatch: Uint8Array

  constructor(
    private readonly automaton: Automaton,
    private readonly maxStates: number,
  ) {
    this.classOf = automaton.classOf
    this.stride = automaton.classCount
    this.idleRows = IDLE_STATES * this.stride
    this.table = new Int32Array(INITIAL_CAPACITY * this.stride).fill(UNKNOWN)
    this.endMatch = new Uint8Array(INITIAL_CAPACITY)
    this.internIdle()
  }

  /**
   * True when no match of any pattern can end anywhere in `text` read whole (its end included), so
   * masking it changes nothing. The same table walk as the scanner's fast path, without a scanner:
   * a string of a request body or a JSON reply costs one table load per code unit and no allocation.
   * @example set.search.cannotMatch('hello') // true with the default detectors
   */
  cannotMatch(text: string): boolean {
    const classOf = this.classOf
    let table = this.table
    let row = PREV_START * this.stride
    for (let i = 0; i < text.length; i++) {
      const cls = classOf[text.charCodeAt(i)]!
      let entry = table[row + cls]!
      if (entry < 0) {
        entry = this.resolve(row, cls)
        table = this.table
      }
      if ((entry & 1) !== 0) return false
      row = entry >> 1
    }
    return row < this.idleRows || !this.matchesAtEnd(row)
  }

  /** Whether some thread of the state at `row` accepts at the end of the text (cached per state). */
  private matchesAtEnd(row: number): boolean {
    const id = row / this.stride
    let known = this.endMatch[id]!
    if (known === 0) {
      const step = this.automaton.searchStep(this.kernels[id]!, this.prevs[id]!, this.automaton.eof)
      known = step.matchEnds ? YES : NO
      this.endMatch[id] = known
    }
    return known === YES
  }

  get cachedStates(): number {
    return this.kernels.length
  }

  kernelOf(row: number): Int32Array {
    return this.kernels[row / this.stride]!
  }

  prevOf(row: number): number {
    return this.prevs[row / this.stride]!
  }

  /** The table entry of (`row`, `cls`), computed and cached; afterwards `resolvedFrom` is the source row. */
  resolve(row: number, cls: number): number {
    const kernel = this.kernelOf(row)
    const prev = this.prevOf(row)
    const step = this.automaton.searchStep(kernel, prev, cls)
    const nextPrev = this.automaton.wordClass[cls]!
    const generation = this.generation
    if (this.kernels.length >= this.maxStates && step.kernel.length > 0 && !this.ids.has(key(step.kernel, nextPrev))) this.drop()
    const from = generation === this.generation ? row : this.intern(kernel, prev)
    const target = this.intern(step.kernel, nextPrev)
    const entry = (target << 1) | (step.matchEnds ? 1 : 0)
    this.table[from + cls] = entry
    this.resolvedFrom = from
    return entry
  }

  /** The row of (`kernel`, `prev`) in the current generation. */
  intern(kernel: Int32Array, prev: number): number {
    if (kernel.length === 0) return prev * this.stride
    const k = key(kernel, prev)
    const hit = this.ids.get(k)
    if (hit !== undefined) return hit * this.stride
    const id = this.kernels.length
    this.kernels.push(kernel)
    this.prevs.push(prev)
    this.ids.set(k, id)
    if ((id + 1) * this.stride > this.table.length) this.grow()
    return id * this.stride
  }

  private grow(): void {
    const bigger = new Int32Array(this.table.length * 2).fill(UNKNOWN)
    bigger.set(this.table)
    this.table = bigger
    const ends = new Uint8Array(this.endMatch.length * 2)
    ends.set(this.endMatch)
    this.endMatch = ends
  }

  private drop(): void {
    this.generation++
    this.kernels = []
    this.prevs = []
    this.ids = new Map()
    this.table.fill(UNKNOWN)
    this.endMatch.fill(0)
    this.internIdle()
  }

  private internIdle(): void {
    for (const prev of [PREV_NON_WORD, PREV_WORD, PREV_START]) {
      this.kernels.push(new Int32Array(0))
      this.prevs.push(prev)
    }
  }
}

const key = (kernel: Int32Array, prev: number): string => `${prev}|${kernel.join(',')}`
