import type { DfaState } from './regex/dfa.js'
import { PREV_START } from './regex/dfa.js'
import type { PatternSet } from './pattern-set.js'
import { MaskingError } from './errors.js'
import type { MaskHits } from './types.js'

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff

/** Candidate matches starting at `start`: the DFA run and the longest validated end seen so far. */
interface Run {
  readonly start: number
  state: DfaState
  /** End of the longest match so far of a pattern without validator, -1 when none. */
  bestEnd: number
  bestPattern: number
  /**
   * Candidates of patterns with a validator, as (end, pattern) pairs in accept order. Validation
   * waits until the run is decided and then goes longest-first, so a JWT is checked once, not at
   * every character of its signature.
   */
  pending: number[] | undefined
}

/** A replacement being built: overlapping matches keep extending it. */
interface Region {
  readonly start: number
  end: number
  readonly pattern: number
}

/**
 * Incremental scanner: the one implementation behind `maskText` (one chunk) and the stream masker
 * (one chunk per delta), so a stream split anywhere yields exactly what a whole-string mask yields.
 *
 * Semantics: a match is a validated match of a pattern, at most its maxLength long, taken longest
 * per start position. Every code unit inside any match is masked: overlapping matches merge into
 * one region, replaced by the marker of the region's leftmost (then longest, then first-listed)
 * match. Merging instead of picking one of two overlapping matches is deliberate: a greedy phone
 * match must not leave the tail of an adjacent card number or address in clear.
 *
 * Release: text is returned as soon as no run that started at or before it can still produce a
 * match covering it, so the held tail is exactly what could still become (part of) a match — never
 * more than the longest maxLength (plus one code unit to keep a surrogate pair together).
 *
 * Cost: one DFA transition per live run per code unit. Runs that reach the same DFA state at the
 * same position share their future, so only the earliest survives (the Pike-VM rule); the live-run
 * count stays at the number of distinct DFA states, not the match length.
 */
export class TextScanner {
  private buf = ''
  /** Absolute offset of `buf[0]`. */
  private bufStart = 0
  /** Code units consumed so far (absolute). */
  private pos = 0
  /** Text before this offset is decided: released raw, or inside a region. */
  private decided = 0
  /** Start of the decided text not returned yet (inside an open region: its current end). */
  private rawFrom = 0
  private prevKind = PREV_START
  private runs: Run[] = []
  private region: Region | undefined
  private out: string[] = []
  private ended = false
  /** Units read by the search DFA (absolute); equals `pos` while the runs are on. */
  private scanPos = 0
  /** The search DFA's state (its row) at `scanPos`, its generation and kernel (to re-intern after a drop). */
  private searchState = 0
  /** -1 until the first push: then `resumeSearch` sets the start state. */
  private searchGeneration = -1
  private searchKernel: Int32Array | undefined
  private searchPrev: number = PREV_START
  /** Last position where the search DFA was idle (no thread from any start in progress), and the kind of unit before it. */
  private lastIdle = 0
  private lastIdleKind: number = PREV_START
  /** While false, the runs are idle at `pos` and nothing matched since: only the search DFA moves. */
  private runsOn = false

  constructor(
    private readonly set: PatternSet,
    private readonly hits: MaskHits,
    /** Told of every replaced region (offsets into the raw text); used by tests and tools. */
    private readonly onRegion?: (start: number, end: number, pattern: number) => void,
  ) {}

  /** Code units received but not returned yet (a region's own text is never returned). */
  get held(): number {
    return this.pos - this.rawFrom
  }

  /** Feeds text; returns the masked text that can be released now (possibly ''). */
  push(chunk: string): string {
    if (this.ended) throw new MaskingError('text pushed after the end of a block')
    if (chunk.length === 0) return ''
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk
    this.resumeSearch()
    const base = this.scanPos
    let i = 0
    while (i < chunk.length) {
      if (!this.runsOn) {
        i = this.skipWhileNoMatchEnds(chunk, i, base)
        if (i === chunk.length) break
        this.catchUp()
      }
      i = this.runUntilIdle(chunk, i, base)
    }
    // The hold-back must be exact at every chunk end: bring the runs up to date unless idle.
    if (!this.runsOn) {
      if (this.searchState < this.set.search.idleRows) this.jumpTo(this.scanPos)
      else this.catchUp()
    }
    this.searchKernel = this.set.search.kernelOf(this.searchState)
    this.searchPrev = this.set.search.prevOf(this.searchState)
    return this.drain()
  }

  /** Before the first push, and after another scanner dropped the shared search cache: finds this scanner's state (again). */
  private resumeSearch(): void {
    const search = this.set.search
    if (this.searchGeneration === search.generation) return
    this.searchState = search.intern(this.searchKernel ?? new Int32Array(0), this.searchPrev)
    this.searchGeneration = search.generation
  }

  /**
   * The fast path: advances the search DFA from `chunk[i]` until a match could end (returns its
   * index) or the chunk is done (returns its length). Records the last idle position.
   */
  private skipWhileNoMatchEnds(chunk: string, i: number, base: number): number {
    const search = this.set.search
    const { classOf, idleRows } = search
    let table = search.table
    let s = this.searchState
    let idleAt = -1
    let idleRow = 0
    for (; i < chunk.length; i++) {
      const cls = classOf[chunk.charCodeAt(i)]!
      let entry = table[s + cls]!
      if (entry < 0) {
        entry = search.resolve(s, cls)
        s = search.resolvedFrom
        table = search.table
      }
      if ((entry & 1) !== 0) break
      s = entry >> 1
      if (s < idleRows) {
        idleAt = i
        idleRow = s
      }
    }
    this.searchState = s
    this.searchGeneration = search.generation
    this.scanPos = base + i
    if (idleAt >= 0) {
      this.lastIdle = base + idleAt + 1
      this.lastIdleKind = idleRow / search.stride
    }
    return i
  }

  /**
   * Runs the exact scanner (and the search DFA beside it) from `chunk[i]` until both are idle, then
   * switches back to the fast path. Returns the index reached.
   */
  private runUntilIdle(chunk: string, i: number, base: number): number {
    const search = this.set.search
    const { classOf, idleRows } = search
    let s = this.searchState
    while (i < chunk.length) {
      const cls = classOf[chunk.charCodeAt(i)]!
      let entry = search.table[s + cls]!
      if (entry < 0) {
        entry = search.resolve(s, cls)
        s = search.resolvedFrom
      }
      s = entry >> 1
      this.step(cls)
      i++
      if (s < idleRows && this.runs.length === 0) {
        this.runsOn = false
        this.lastIdle = base + i
        this.lastIdleKind = s / search.stride
        break
      }
    }
    this.searchState = s
    this.searchGeneration = search.generation
    this.scanPos = base + i
    return i
  }

  /** Moves the idle runs to the last idle position and replays the text since, runs on. */
  private catchUp(): void {
    this.jumpTo(this.lastIdle)
    const classOf = this.set.automaton.classOf
    for (let p = this.lastIdle; p < this.scanPos; p++) this.step(classOf[this.buf.charCodeAt(p - this.bufStart)]!)
    this.runsOn = true
  }

  /** Idle runs skip to `at`, an idle position of the search DFA with no match end before it. */
  private jumpTo(at: number): void {
    this.pos = at
    this.decided = at
    this.prevKind = at === this.lastIdle ? this.lastIdleKind : this.searchState / this.set.search.stride
    this.lastIdle = at
    this.lastIdleKind = this.prevKind
  }

  /** End of text: resolves `$` and `\b` at the end and releases everything. */
  end(): string {
    if (this.ended) return ''
    this.ended = true
    const a = this.set.automaton
    for (const run of this.runs) {
      if (run.state === a.dead) continue
      if (run.state.acc[a.eof] === undefined) a.transition(run.state, a.eof)
      const acc = run.state.acc[a.eof]
      if (acc) this.accept(run, acc, this.pos)
      run.state = a.dead
    }
    this.resolve()
    return this.drain()
  }

  private step(cls: number): void {
    const a = this.set.automaton
    const dead = a.dead
    const p = this.pos
    const stamp = ++a.stamp
    const runs = this.runs
    let w = 0
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!
      let st = run.state
      if (st !== dead) {
        const next = st.next[cls] ?? a.transition(st, cls)
        const acc = st.acc[cls]
        if (acc) this.accept(run, acc, p)
        st = next === dead || p + 1 - run.start > next.maxLen ? dead : next
        if (st !== dead && !st.validated) {
          if (st.claim === stamp) {
            // An earlier run is in the same state: its matches contain every match of this one.
            if (run.bestEnd < 0 && run.pending === undefined) continue
            st = dead
          } else st.claim = stamp
        }
        run.state = st
      }
      runs[w++] = run
    }
    while (runs.length > w) runs.pop() // cheaper than assigning .length on V8's hot path
    this.startRun(cls, p, stamp)
    this.prevKind = a.wordClass[cls]!
    this.pos = p + 1
    if (runs.length === 0 && this.region === undefined) this.decided = this.pos
    else this.resolve()
  }

  private startRun(cls: number, p: number, stamp: number): void {
    const a = this.set.automaton
    const init = a.initial[this.prevKind]!
    const st = init.next[cls] ?? a.transition(init, cls)
    if (st === a.dead) return
    if (!st.validated) {
      if (st.claim === stamp) return
      st.claim = stamp
    }
    this.runs.push({ start: p, state: st, bestEnd: -1, bestPattern: -1, pending: undefined })
  }

  /** Records matches ending at `end` (patterns ascending, so the first one wins a tie). */
  private accept(run: Run, patterns: readonly number[], end: number): void {
    const { maxLen, validators } = this.set
    for (const pattern of patterns) {
      if (end - run.start > maxLen[pattern]!) continue
      if (validators[pattern]) (run.pending ??= []).push(end, pattern)
      else if (run.bestEnd !== end) {
        run.bestEnd = end
        run.bestPattern = pattern
      }
    }
  }

  /** Validates a decided run's pending candidates, longest first; the first valid one may win. */
  private finalize(run: Run): void {
    const pending = run.pending
    if (!pending) return
    run.pending = undefined
    const { validators } = this.set
    for (let i = pending.length - 2; i >= 0; i -= 2) {
      const end = pending[i]!
      const pattern = pending[i + 1]!
      if (end < run.bestEnd) return
      // Same end as a validator-free match: only an earlier-listed pattern changes the label.
      if (end === run.bestEnd && pattern > run.bestPattern) continue
      const text = this.buf.slice(run.start - this.bufStart, end - this.bufStart)
      if (!validators[pattern]!(text)) continue
      // Pairs with one end are ascending by pattern: keep scanning them for an earlier valid one.
      run.bestEnd = end
      run.bestPattern = pattern
      for (let j = i - 2; j >= 0 && pending[j] === end; j -= 2) {
        if (validators[pending[j + 1]!]!(text)) run.bestPattern = pending[j + 1]!
      }
      return
    }
  }

  /** Decides, leftmost first, every run that can no longer change the output. */
  private resolve(): void {
    const runs = this.runs
    const dead = this.set.automaton.dead
    let k = 0
    for (; k < runs.length; k++) {
      const run = runs[k]!
      if (this.region && run.start >= this.region.end) this.closeRegion()
      if (run.state !== dead) break
      this.finalize(run)
      if (run.bestEnd < 0) continue
      if (!this.region) this.openRegion(run)
      else if (run.bestEnd > this.region.end) this.region.end = this.rawFrom = this.decided = run.bestEnd
    }
    if (k > 0) {
      // In place: splice() would allocate the removed elements on every decided run.
      for (let i = k; i < runs.length; i++) runs[i - k] = runs[i]!
      for (let i = 0; i < k; i++) runs.pop()
    }
    if (this.region && (runs.length === 0 || runs[0]!.start >= this.region.end)) this.closeRegion()
    if (this.region) return
    this.decided = runs.length > 0 ? Math.max(this.decided, runs[0]!.start) : this.pos
  }

  private openRegion(run: Run): void {
    this.out.push(this.buf.slice(this.rawFrom - this.bufStart, run.start - this.bufStart))
    this.out.push(this.set.replacements[run.bestPattern]!)
    this.region = { start: run.start, end: run.bestEnd, pattern: run.bestPattern }
    this.rawFrom = this.decided = run.bestEnd
  }

  private closeRegion(): void {
    const region = this.region!
    const name = this.set.names[region.pattern]!
    this.hits[name] = (this.hits[name] ?? 0) + 1
    this.onRegion?.(region.start, region.end, region.pattern)
    this.region = undefined
  }

  private drain(): string {
    let upTo = this.decided
    // Never end a release between the halves of a surrogate pair (a delta would carry a lone one).
    if (!this.ended && upTo > this.rawFrom && isHighSurrogate(this.buf.charCodeAt(upTo - 1 - this.bufStart))) upTo--
    if (upTo > this.rawFrom) {
      this.out.push(this.buf.slice(this.rawFrom - this.bufStart, upTo - this.bufStart))
      this.rawFrom = upTo
    }
    // Keep only undecided text and what live runs need for their validators (bounded by maxLength).
    const keepFrom = Math.min(this.rawFrom, this.runs[0]?.start ?? this.rawFrom)
    if (keepFrom > this.bufStart) {
      this.buf = this.buf.slice(keepFrom - this.bufStart)
      this.bufStart = keepFrom
    }
    if (this.out.length === 0) return ''
    const text = this.out.length === 1 ? this.out[0]! : this.out.join('')
    this.out = []
    return text
  }
}

/** The regions `maskText` would replace, as offsets into `text`. */
export function findMatches(set: PatternSet, text: string): Array<{ start: number; end: number; name: string }> {
  const found: Array<{ start: number; end: number; name: string }> = []
  const scanner = new TextScanner(set, {}, (start, end, pattern) => found.push({ start, end, name: set.names[pattern]! }))
  scanner.push(text)
  scanner.end()
  return found
}
