/**
 * The upstream objects a principal can create through the gateway (issue #12 item 3, issue #18).
 * Batches and files are workspace-wide at Anthropic, a container is usable by any key that names
 * it, and so is every Managed Agents object (agents, environments, sessions, deployments and their
 * runs, vaults, memory stores, tunnels): the gateway is the only place that keeps one principal's
 * objects from another.
 * `skill_version` ids are `SKILL_ID/VERSION`: beta version ids (epoch microseconds) are unique only per skill.
 * An agent's versions are the agent's (`/v1/agents/{id}/versions…` checks the agent), so they need no kind.
 */
export type OwnedKind =
  | 'batch'
  | 'file'
  | 'container'
  | 'skill'
  | 'skill_version'
  | 'agent'
  | 'environment'
  | 'session'
  | 'deployment'
  | 'deployment_run'
  | 'vault'
  | 'memory_store'
  | 'tunnel'

export const ownedKinds: readonly OwnedKind[] = [
  'batch',
  'file',
  'container',
  'skill',
  'skill_version',
  'agent',
  'environment',
  'session',
  'deployment',
  'deployment_run',
  'vault',
  'memory_store',
  'tunnel',
]

export interface OwnedObject {
  readonly kind: OwnedKind
  readonly id: string
}

/** The id under which a skill version is owned. */
export const skillVersionId = (skillId: string, version: string): string => `${skillId}/${version}`
