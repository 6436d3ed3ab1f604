/**
 * Why a decision came out as it did (pomerium `criteria/reasons.go`). Every decision carries the full
 * list; the audit stores it and the client's error message names the one that denied.
 */
export type ReasonCode =
  | 'rule-matched'
  | 'deny-rule-matched'
  | 'no-rule-matched'
  | 'ambiguous-rules'
  | 'named-rule-unknown'
  | 'named-rule-not-matched'
  | 'principal-claim-missing'
  | 'endpoint-granted'
  | 'endpoint-not-granted'
  | 'model-granted'
  | 'model-missing'
  | 'model-not-granted'

export interface Reason {
  readonly code: ReasonCode
  /** Safe to show a client: rule ids, endpoint and model names, claim names; never claim values. */
  readonly detail?: string
}
