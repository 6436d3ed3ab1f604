/**
 * The upstream objects a principal can create through the gateway (issue #12 item 3). Batches and
 * files are workspace-wide at Anthropic and a container is usable by any key that names it, so the
 * gateway is the only place that keeps one principal's objects from another.
 * `skill_version` ids are `SKILL_ID/VERSION`: beta version ids (epoch microseconds) are unique only per skill.
 */
export type OwnedKind = 'batch' | 'file' | 'container' | 'skill' | 'skill_version'

export const ownedKinds: readonly OwnedKind[] = ['batch', 'file', 'container', 'skill', 'skill_version']

export interface OwnedObject {
  readonly kind: OwnedKind
  readonly id: string
}

/** The id under which a skill version is owned. */
export const skillVersionId = (skillId: string, version: string): string => `${skillId}/${version}`
