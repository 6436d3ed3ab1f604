import type { OwnedKind, OwnedObject } from './kinds.js'

/** One object a request addresses or cites, and where (`path`, or a place in the body). */
export interface OwnershipCheck extends OwnedObject {
  readonly at: string
  /** A custom skill the rule names counts as the caller's (see targets.ts). */
  readonly namedSkillSuffices?: boolean
}

/** The principal recorded for an object; undefined when none is. */
export type OwnerLookup = (kind: OwnedKind, id: string) => string | undefined

export type OwnershipVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'object-not-owned' | 'object-owner-unknown'; readonly object: OwnershipCheck }

/**
 * Every object must be the caller's: recorded for this principal (the owner is the principal, not
 * the rule, so a job keeps its objects across rules that map to it), or, for skill management, a
 * custom skill the rule names. The first one that is not decides, and the caller is told only "not
 * found" either way: whether another principal owns it is for the audit, not for the client.
 */
export function judgeOwnership(checks: readonly OwnershipCheck[], principal: string, namedSkills: ReadonlySet<string>, ownerOf: OwnerLookup): OwnershipVerdict {
  for (const object of checks) {
    if (object.namedSkillSuffices === true && object.kind === 'skill' && namedSkills.has(object.id)) continue
    const owner = object.id === '' ? undefined : ownerOf(object.kind, object.id)
    if (owner === undefined) return { ok: false, code: 'object-owner-unknown', object }
    if (owner !== principal) return { ok: false, code: 'object-not-owned', object }
  }
  return { ok: true }
}
