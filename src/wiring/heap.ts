import v8 from 'node:v8'

/**
 * V8 lets the old generation grow to up to four times what the last full collection left alive
 * before it collects again. A gateway's live heap is small (~35 MB: its code and caches) but it
 * allocates fast, so it sat near that ceiling: ~290 MB resident under load for ~35 MB of live data.
 * Growing to twice the live heap instead brings the peak to ~205 MB at the same CPU per request
 * (docs/benchmarks.md, "Sixth session"): full collections come more often, but each is short.
 *
 * An operator who sizes the heap (any of these flags in NODE_OPTIONS or on the command line) keeps
 * V8's own policy for that size: a small `--max-old-space-size` already grows by less than twice.
 * Set at run time, the flag applies from the next full collection on: V8 reads it each time it
 * computes the next limit (a running process showed the same peak as one started with the flag).
 */
export const HEAP_GROWING_PERCENT = 100

const operatorHeapFlag =
  /^--(?:heap[-_]growing[-_]percent|(?:max|initial)[-_]old[-_]space[-_]size|(?:max|initial)[-_]heap[-_]size|(?:max|min)[-_]semi[-_]space[-_]size|max[-_]young[-_]generation[-_]size|optimize[-_]for[-_]size)(?:=|$)/

/** Whether skillgate sets the growth itself: not when the operator passed a heap flag. */
export function shouldTuneHeap(execArgv: readonly string[], nodeOptions: string): boolean {
  return ![...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => operatorHeapFlag.test(flag))
}

let tuned = false

/** Once per process (every worker runs it at start): later calls and operator flags change nothing. */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if (tuned || !shouldTuneHeap(execArgv, nodeOptions)) return false
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  tuned = true
  return true
}
