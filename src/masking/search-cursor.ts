import { PREV_START } from './regex/dfa.js'
import type { SearchDfa } from './regex/search-dfa.js'

const NO_THREADS = new Int32Array(0)

/**
 * One scanner's position in the shared search DFA (`regex/search-dfa.ts`): where it is, and the
 * last idle position (no thread from any start in progress) with the kind of unit before it —
 * the place the exact runs can be restarted from without changing any result.
 */
export class SearchCursor {
  /** Units read (absolute). */
  pos = 0
  lastIdle = 0
  lastIdleKind: number = PREV_START
  /** The state's row; meaningful for the generation in `generation`. */
  private row = 0
  /** -1 until the first `resume`, which sets the start state. */
  private generation = -1
  private kernel: Int32Array = NO_THREADS
  private prev: number = PREV_START

  constructor(private readonly dfa: SearchDfa) {}

  /** True when no thread is in progress at `pos`. */
  get idle(): boolean {
    return this.row < this.dfa.idleRows
  }

  /** The PREV_* kind at `pos` when idle. */
  get idleKind(): number {
    return this.row / this.dfa.stride
  }

  /** Before reading a chunk: finds this cursor's state again if another scanner dropped the cache. */
  resume(): void {
    if (this.generation === this.dfa.generation) return
    this.row = this.dfa.intern(this.kernel, this.prev)
    this.generation = this.dfa.generation
  }

  /** After a chunk: remembers the state by content, the only name that survives a cache drop. */
  save(): void {
    this.kernel = this.dfa.kernelOf(this.row)
    this.prev = this.dfa.prevOf(this.row)
  }

  /**
   * The fast path: reads `chunk` from `i` until a match could end at a unit (returns its index,
   * that unit unread) or the chunk is done (returns its length). `base` is the absolute position
   * of `chunk[0]`. Allocates nothing.
   */
  skipWhileNoMatchEnds(chunk: string, i: number, base: number): number {
    const dfa = this.dfa
    const { classOf, idleRows } = dfa
    let table = dfa.table
    let row = this.row
    let idleAt = -1
    let idleRow = 0
    for (; i < chunk.length; i++) {
      const cls = classOf[chunk.charCodeAt(i)]!
      let entry = table[row + cls]!
      if (entry < 0) {
        entry = dfa.resolve(row, cls)
        row = dfa.resolvedFrom
        table = dfa.table
      }
      if ((entry & 1) !== 0) break
      row = entry >> 1
      if (row < idleRows) {
        idleAt = i
        idleRow = row
      }
    }
    this.row = row
    this.generation = dfa.generation
    this.pos = base + i
    if (idleAt >= 0) {
      this.lastIdle = base + idleAt + 1
      this.lastIdleKind = idleRow / dfa.stride
    }
    return i
  }

  /** Reads one unit of class `cls` (beside the exact runs); returns whether the DFA is idle after it. */
  advance(cls: number): boolean {
    const dfa = this.dfa
    let entry = dfa.table[this.row + cls]!
    if (entry < 0) {
      entry = dfa.resolve(this.row, cls)
      this.generation = dfa.generation
    }
    this.row = entry >> 1
    this.pos++
    return this.row < dfa.idleRows
  }

  /** Records `pos` as idle (the runs are idle there too). */
  markIdle(): void {
    this.lastIdle = this.pos
    this.lastIdleKind = this.idleKind
  }
}
