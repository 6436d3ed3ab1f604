import type { Reason } from './reasons.js'

export interface Decision {
  readonly effect: 'allow' | 'deny'
  /** The rule that decided, when one did. */
  readonly rule?: string
  /** The principal built from the rule's template (allow only). */
  readonly principal?: string
  readonly reasons: readonly Reason[]
}
