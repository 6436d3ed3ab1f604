import type { PatternSpec } from '../pattern-set.js'

/**
 * A built-in detector: a linear-time pattern (engine syntax, see `../regex/parse.ts`), the longest
 * match it can produce (bounds the stream hold-back) and an optional validator run on candidates.
 */
export interface Detector extends PatternSpec {
  /** One line for docs and `config validate` output. */
  readonly description: string
}

/** Digits of a candidate, ignoring separators. */
export const digitsOf = (text: string): string => text.replace(/[^0-9]/g, '')
