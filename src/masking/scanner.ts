import { PREV_START } from './regex/dfa.js'
import type { PatternSet } from './pattern-set.js'
import { MaskingError } from './errors.js'
import { acceptMatches, finalizeRun, RunPool, type Region, type Run } from './runs.js'
import { SearchCursor } from './search-cursor.js'
import type { MaskHits } from './types.js'

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff

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
 * Cost: the search DFA (`regex/search-dfa.ts`) reads every code unit with one table load. The runs
 * only read where a match can end: from the last position where nothing was in progress, until
 * everything is idle again (and at each chunk end, so the hold-back stays exact). There they cost
 * one DFA transition per live run per code unit. Runs that reach the same DFA state at the same
 * position share their future, so only the earliest survives (the Pike-VM rule); the live-run
 * count stays at the number of distinct DFA states, not the match length.
 */
export class TextScanner {
  private buf = ''
  /** Absolute offset of `buf[0]`. */
  private bufStart = 0
  /** Code units consumed by the runs (absolute); the search DFA may be ahead (`search.pos`). */
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
  private readonly pool = new RunPool()
  private readonly search: SearchCursor
  /** While false, the runs are idle at `pos` and no match ended since: only the search DFA reads. */
  private runsOn = false

  constructor(
    private readonly set: PatternSet,
    private readonly hits: MaskHits,
    /** Told of every replaced region (offsets into the raw text); used by tests and tools. */
    private readonly onRegion?: (start: number, end: number, pattern: number) => void,
    /** `false` runs the exact runs on every unit (tests: the prefilter must never change a result). */
    private readonly prefilter = true,
  ) {
    this.search = new SearchCursor(set.search)
  }

  /** Code units received but not returned yet (a region's own text is never returned). */
  get held(): number {
    return this.pos - this.rawFrom
  }

  /** Feeds text; returns the masked text that can be released now (possibly ''). */
  push(chunk: string): string {
    if (this.ended) throw new MaskingError('text pushed after the end of a block')
    if (chunk.length === 0) return ''
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk
    const search = this.search
    search.resume()
    const base = search.pos
    let i = 0
    while (i < chunk.length) {
      if (!this.runsOn) {
        if (this.prefilter) i = search.skipWhileNoMatchEnds(chunk, i, base)
        if (i === chunk.length) break
        this.catchUp()
      }
      i = this.runUntilIdle(chunk, i)
    }
    // The hold-back must be exact at every chunk end: bring the runs up to date unless all is idle.
    if (!this.runsOn) {
      if (search.idle) this.jumpTo(search.pos, search.idleKind)
      else this.catchUp()
    }
    search.save()
    return this.drain()
  }

  /**
   * Runs the exact runs and the search DFA side by side from `chunk[i]` until both are idle, then
   * hands back to the fast path. Returns the index reached.
   */
  private runUntilIdle(chunk: string, i: number): number {
    const search = this.search
    const classOf = this.set.automaton.classOf
    while (i < chunk.length) {
      const cls = classOf[chunk.charCodeAt(i)]!
      const idle = search.advance(cls)
      this.step(cls)
      i++
      if (idle && this.runs.length === 0 && this.prefilter) {
        this.runsOn = false
        search.markIdle()
        break
      }
    }
    return i
  }

  /** Restarts the idle runs at the last idle position and replays the text read since, runs on. */
  private catchUp(): void {
    const { lastIdle, lastIdleKind, pos } = this.search
    this.jumpTo(lastIdle, lastIdleKind)
    const classOf = this.set.automaton.classOf
    for (let p = lastIdle; p < pos; p++) this.step(classOf[this.buf.charCodeAt(p - this.bufStart)]!)
    this.runsOn = true
  }

  /**
   * Idle runs skip to `at`: the search DFA is idle there and no match ended since they were last
   * on, so running them over the skipped text would have released it unchanged.
   */
  private jumpTo(at: number, kind: number): void {
    this.pos = at
    this.decided = at
    this.prevKind = kind
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
      if (acc) acceptMatches(this.set, run, acc, this.pos)
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
        if (acc) acceptMatches(this.set, run, acc, p)
        st = next === dead || p + 1 - run.start > next.maxLen ? dead : next
        if (st !== dead && !st.validated) {
          if (st.claim === stamp) {
            // An earlier run is in the same state: its matches contain every match of this one.
            if (run.bestEnd < 0 && run.pending === undefined) {
              this.pool.give(run)
              continue
            }
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
    this.runs.push(this.pool.take(p, st))
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
      finalizeRun(this.set, run, this.buf, this.bufStart)
      if (run.bestEnd < 0) continue
      if (!this.region) this.openRegion(run)
      else if (run.bestEnd > this.region.end) this.region.end = this.rawFrom = this.decided = run.bestEnd
    }
    if (k > 0) {
      for (let i = 0; i < k; i++) this.pool.give(runs[i]!)
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
