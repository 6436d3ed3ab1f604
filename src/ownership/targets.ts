import type { OwnedKind, OwnedObject } from './kinds.js'
import { skillVersionId } from './kinds.js'
import { managedListKind, managedPathObject } from './managed-agents.js'

/**
 * The object a `/v1` path addresses and must belong to the caller before the call goes upstream.
 * Only the path is read (never the query string), like endpoint classification.
 */
export interface PathCheck extends OwnedObject {
  /**
   * Skill management: a custom skill the caller's rule names in `allow.skills` counts as its own (the
   * operator granted it), so versions can be added to it. Deleting a skill or a version never does.
   */
  readonly namedSkillSuffices: boolean
}

// Group 2 is what follows the object (a sub-resource), absent on the object's own path.
const BATCH = /^\/v1\/messages\/batches\/([^/]+)(\/(?:cancel|results))?$/
const FILE = /^\/v1\/files\/([^/]+)(\/content)?$/
// 1 skill, 2 anything under it, 3 the version, 4 the version's content.
const SKILL = /^\/v1\/skills\/([^/]+)(\/versions(?:\/([^/]+))?(\/content)?)?$/
const MANAGED_OBJECT = /^\/v1\/[a-z_]+\/[^/]+$/

/** Objects on the path that must be the caller's; empty for collections and paths that hold none. */
export function pathChecks(method: string, path: string): PathCheck[] {
  const batch = BATCH.exec(path)?.[1]
  if (batch !== undefined) return [check('batch', batch)]
  const file = FILE.exec(path)?.[1]
  if (file !== undefined) return [check('file', file)]
  const managed = managedPathObject(path)
  if (managed !== undefined) return [check(managed.kind, managed.id)]
  const skill = SKILL.exec(path)
  // Reading skills is `skills.read`: shared workspace configuration that policy's allow.skills governs.
  if (skill?.[1] === undefined || method === 'GET' || method === 'HEAD') return []
  const version = skill[3]
  if (version !== undefined) return [check('skill', skill[1], true), check('skill_version', skillVersionId(skill[1], version))]
  if (path.endsWith('/versions')) return [check('skill', skill[1], true)]
  return [check('skill', skill[1])]
}

/**
 * The object a successful `DELETE` of this path removes upstream, whose owner row can then go: ids
 * are never reused, so a later call naming it is unknown (404) either way, and the table stops
 * growing with objects that no longer exist. Sub-resources (a file's content, a batch's results)
 * delete nothing; deleting a skill version removes that version, not the skill.
 */
export function deletedObject(method: string, path: string): OwnedObject | undefined {
  if (method !== 'DELETE') return undefined
  const batch = BATCH.exec(path)
  if (batch?.[1] !== undefined) return batch[2] === undefined ? { kind: 'batch', id: batch[1] } : undefined
  const file = FILE.exec(path)
  if (file?.[1] !== undefined) return file[2] === undefined ? { kind: 'file', id: file[1] } : undefined
  const skill = SKILL.exec(path)
  if (skill?.[1] !== undefined) {
    if (skill[2] === undefined) return { kind: 'skill', id: skill[1] }
    return skill[3] !== undefined && skill[4] === undefined ? { kind: 'skill_version', id: skillVersionId(skill[1], skill[3]) } : undefined
  }
  return MANAGED_OBJECT.test(path) ? managedPathObject(path) : undefined
}

function check(kind: OwnedKind, id: string, namedSkillSuffices = false): PathCheck {
  return { kind, id, namedSkillSuffices }
}

/** A list whose `data` must be filtered to the caller's objects. */
export function listKind(method: string, path: string): OwnedKind | undefined {
  if (method !== 'GET') return undefined
  if (path === '/v1/messages/batches') return 'batch'
  if (path === '/v1/files') return 'file'
  return managedListKind(path)
}
