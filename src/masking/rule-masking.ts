import type { Masker } from './types.js'

/**
 * The maskers one configuration uses, compiled once when it is loaded (never per request); the
 * stages read it, the composition root (`wiring/policy-and-masking.ts`) builds it.
 */
export interface Masking {
  /** The masker of the rule's `masking:` profiles; undefined when the rule masks nothing. */
  forRule(ruleId: string | undefined): Masker | undefined
  /** For `masking.requests`: detectors that refuse a request, and detectors masked out of it. */
  readonly requests: { readonly masker: Masker; readonly block: readonly string[]; readonly mask: readonly string[] } | undefined
  /** Detector and custom pattern names of a rule's profiles, for masking the audit copy of the request. */
  detectorsForRule(ruleId: string | undefined): readonly string[]
}
