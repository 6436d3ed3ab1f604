/**
 * Why a decision came out as it did (pomerium `criteria/reasons.go`). Every decision carries the full
 * list; the audit stores it and the client's error message names the one that denied.
 */
export type ReasonCode =
  // rule selection
  | 'rule-matched'
  | 'deny-rule-matched'
  | 'no-rule-matched'
  | 'ambiguous-rules'
  | 'named-rule-unknown'
  | 'named-rule-not-matched'
  | 'condition-error'
  | 'principal-claim-missing'
  | 'principal-changed'
  // grants (criteria/), each as granted / denied
  | 'endpoint-granted'
  | 'endpoint-not-granted'
  | 'model-granted'
  | 'model-missing'
  | 'model-not-granted'
  | 'skill-granted'
  | 'skill-not-granted'
  | 'skill-version-not-granted'
  | 'skill-required'
  | 'tool-granted'
  | 'tool-not-granted'
  | 'mcp-server-granted'
  | 'mcp-server-not-granted'
  | 'mcp-tool-not-granted'
  | 'mcp-gateway-server-not-granted'
  | 'max-tokens-within'
  | 'max-tokens-exceeded'
  | 'max-tokens-missing'
  | 'container-owned'
  | 'container-not-owned'
  | 'container-owner-unknown'
  | 'client-skill-granted'
  | 'client-skill-not-granted'
  // ownership of upstream objects (stages/check-ownership.ts), after policy allowed
  | 'object-not-owned'
  | 'object-owner-unknown'

export interface Reason {
  readonly code: ReasonCode
  /** Safe to show a client: rule ids, endpoint, model, tool and skill names, claim names; never claim values. */
  readonly detail?: string
}

/**
 * What a reason says about the request: `granted` and `denied` come from one criterion, `rule` from
 * rule selection. `criterion` lets the stage map a denial to its error code without listing codes.
 */
export interface ReasonInfo {
  readonly polarity: 'granted' | 'denied' | 'note'
  readonly criterion?: CriterionName
}

export type CriterionName = 'endpoint' | 'model' | 'skill' | 'tool' | 'mcp-server' | 'max-tokens' | 'container' | 'client-skill'

/** A Record, so adding a code without saying what it means does not compile. */
export const reasonInfo: Readonly<Record<ReasonCode, ReasonInfo>> = {
  'rule-matched': { polarity: 'granted' },
  'deny-rule-matched': { polarity: 'denied' },
  'no-rule-matched': { polarity: 'denied' },
  'ambiguous-rules': { polarity: 'denied' },
  'named-rule-unknown': { polarity: 'denied' },
  'named-rule-not-matched': { polarity: 'denied' },
  'condition-error': { polarity: 'note' },
  'principal-claim-missing': { polarity: 'denied' },
  'principal-changed': { polarity: 'denied' },
  'endpoint-granted': { polarity: 'granted', criterion: 'endpoint' },
  'endpoint-not-granted': { polarity: 'denied', criterion: 'endpoint' },
  'model-granted': { polarity: 'granted', criterion: 'model' },
  'model-missing': { polarity: 'denied', criterion: 'model' },
  'model-not-granted': { polarity: 'denied', criterion: 'model' },
  'skill-granted': { polarity: 'granted', criterion: 'skill' },
  'skill-not-granted': { polarity: 'denied', criterion: 'skill' },
  'skill-version-not-granted': { polarity: 'denied', criterion: 'skill' },
  'skill-required': { polarity: 'denied', criterion: 'skill' },
  'tool-granted': { polarity: 'granted', criterion: 'tool' },
  'tool-not-granted': { polarity: 'denied', criterion: 'tool' },
  'mcp-server-granted': { polarity: 'granted', criterion: 'mcp-server' },
  'mcp-server-not-granted': { polarity: 'denied', criterion: 'mcp-server' },
  'mcp-tool-not-granted': { polarity: 'denied', criterion: 'mcp-server' },
  'mcp-gateway-server-not-granted': { polarity: 'denied', criterion: 'mcp-server' },
  'max-tokens-within': { polarity: 'granted', criterion: 'max-tokens' },
  'max-tokens-exceeded': { polarity: 'denied', criterion: 'max-tokens' },
  'max-tokens-missing': { polarity: 'denied', criterion: 'max-tokens' },
  'container-owned': { polarity: 'granted', criterion: 'container' },
  'container-not-owned': { polarity: 'denied', criterion: 'container' },
  'container-owner-unknown': { polarity: 'denied', criterion: 'container' },
  'client-skill-granted': { polarity: 'granted', criterion: 'client-skill' },
  'client-skill-not-granted': { polarity: 'denied', criterion: 'client-skill' },
  'object-not-owned': { polarity: 'denied' },
  'object-owner-unknown': { polarity: 'denied' },
}

export const isReasonCode = (value: string): value is ReasonCode => Object.hasOwn(reasonInfo, value)
