import { reasonInfo, type Reason } from './reasons.js'

export interface Decision {
  readonly effect: 'allow' | 'deny'
  /** The rule that decided, when one did. */
  readonly rule?: string
  /** The principal built from the rule's template (allow, and denials after a rule was chosen). */
  readonly principal?: string
  /**
   * Every reason, in this order: notes (`condition-error`), rule selection, granted criteria, then
   * (on a deny) every denial in criterion order. So the last reason of a deny is always a denial.
   */
  readonly reasons: readonly Reason[]
  /** On a deny: the first denying reason, the one to name to the client. */
  readonly deniedBy?: Reason
}

export function denyDecision(reasons: Reason[], rule?: string, principal?: string): Decision {
  const deniedBy = reasons.find((reason) => reasonInfo[reason.code].polarity === 'denied')
  return {
    effect: 'deny',
    reasons,
    ...(rule === undefined ? {} : { rule }),
    ...(principal === undefined ? {} : { principal }),
    ...(deniedBy === undefined ? {} : { deniedBy }),
  }
}
