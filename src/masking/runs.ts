import type { DfaState } from './regex/dfa.js'
import type { PatternSet } from './pattern-set.js'

/** Candidate matches starting at `start`: the DFA run and the longest validated end seen so far. */
export interface Run {
  start: number
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
export interface Region {
  readonly start: number
  end: number
  readonly pattern: number
}

/** Finished runs are reused: in secret-dense text a run starts at almost every code unit. */
export class RunPool {
  /** Created on first use: most scanners (short strings of a JSON body) never free a run. */
  private free: Run[] | undefined

  take(start: number, state: DfaState): Run {
    const run = this.free?.pop()
    if (!run) return { start, state, bestEnd: -1, bestPattern: -1, pending: undefined }
    run.start = start
    run.state = state
    run.bestEnd = -1
    run.bestPattern = -1
    run.pending = undefined
    return run
  }

  give(run: Run): void {
    const free = (this.free ??= [])
    if (free.length < MAX_POOLED) free.push(run)
  }
}

const MAX_POOLED = 64

/** Records matches ending at `end` (patterns ascending, so the first one wins a tie). */
export function acceptMatches(set: PatternSet, run: Run, patterns: readonly number[], end: number): void {
  const { maxLen, validators } = set
  for (const pattern of patterns) {
    if (end - run.start > maxLen[pattern]!) continue
    if (validators[pattern]) (run.pending ??= []).push(end, pattern)
    else if (run.bestEnd !== end) {
      run.bestEnd = end
      run.bestPattern = pattern
    }
  }
}

/**
 * Validates a decided run's pending candidates, longest first; the first valid one may win.
 * `buf` holds the text from absolute offset `bufStart` on.
 */
export function finalizeRun(set: PatternSet, run: Run, buf: string, bufStart: number): void {
  const pending = run.pending
  if (!pending) return
  run.pending = undefined
  const { validators } = set
  for (let i = pending.length - 2; i >= 0; i -= 2) {
    const end = pending[i]!
    const pattern = pending[i + 1]!
    if (end < run.bestEnd) return
    // Same end as a validator-free match: only an earlier-listed pattern changes the label.
    if (end === run.bestEnd && pattern > run.bestPattern) continue
    const text = buf.slice(run.start - bufStart, end - bufStart)
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
