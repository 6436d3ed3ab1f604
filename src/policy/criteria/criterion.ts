import type { EndpointName } from '../endpoint.js'
import type { AllowInput, SkillCatalog } from '../input.js'
import type { CriterionName, Reason, ReasonCode } from '../reasons.js'
import type { RequestFacts } from '../request-facts.js'

/** What every criterion sees of a request once a rule and its principal are chosen. */
export interface GrantInput {
  readonly endpoint: EndpointName | 'unknown'
  readonly facts: RequestFacts
  readonly principal: string
  /** Who created a container (the principal recorded from its first response); undefined: unknown. */
  readonly containerOwner: (id: string) => string | undefined
}

/** A criterion's verdict: when `ok` is false, `reasons` are its denials only. */
export interface GrantResult {
  readonly ok: boolean
  readonly reasons: readonly Reason[]
}

export type GrantCheck = (input: GrantInput) => GrantResult

/** A config problem in a rule's `allow`, its path relative to `allow`. */
export interface GrantProblem {
  readonly path: readonly (string | number)[]
  readonly message: string
  readonly hint?: string
}

/**
 * One grant dimension (pomerium `criteria/*.go`): `validate` reports config problems for
 * `config validate`; `compile` turns a valid `allow` into a check once, at load.
 */
export interface Criterion {
  readonly name: CriterionName
  readonly validate?: (allow: AllowInput, skills: SkillCatalog) => GrantProblem[]
  readonly compile: (allow: AllowInput, skills: SkillCatalog) => GrantCheck
}

/** Nothing to check for this request: no reasons either way. */
export const nothingToCheck: GrantResult = { ok: true, reasons: [] }

const maxPerCode = 10
const maxDetail = 200

/**
 * Builds a verdict: any denial wins and only denials are reported; each distinct (code, detail)
 * once, at most 10 per code, so a 32 MB body cannot turn into a 32 MB audit record.
 */
export function verdict(granted: readonly Reason[], denied: readonly Reason[]): GrantResult {
  return denied.length > 0 ? { ok: false, reasons: bounded(denied) } : { ok: true, reasons: bounded(granted) }
}

function bounded(reasons: readonly Reason[]): Reason[] {
  // Nearly every check has one reason: nothing to deduplicate or count.
  if (reasons.length <= 1) return reasons.slice()
  const seen = new Set<string>()
  const perCode = new Map<ReasonCode, number>()
  const out: Reason[] = []
  for (const reason of reasons) {
    const key = `${reason.code}\u0000${reason.detail ?? ''}`
    if (seen.has(key)) continue
    seen.add(key)
    const count = (perCode.get(reason.code) ?? 0) + 1
    perCode.set(reason.code, count)
    if (count <= maxPerCode) out.push(reason)
    else if (count === maxPerCode + 1) out.push({ code: reason.code, detail: 'and more' })
  }
  return out
}

/** A detail made of client-supplied names: unique, joined, cut at 200 characters. */
export function listDetail(items: Iterable<string>): string {
  return clip([...new Set(items)].join(', '))
}

/** A client-supplied value in a detail: bounded, and visible when empty or malformed. */
export function nameDetail(value: string, at = ''): string {
  const shown = value === '' ? '(missing or malformed)' : clip(value, 100)
  return at === '' ? shown : `${shown} in ${at}`
}

function clip(text: string, max = maxDetail): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
