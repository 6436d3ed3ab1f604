import { placeOf, placeText, walkBodyObjects, type Place } from './body-walk.js'
import type { OwnedKind, OwnedObject } from './kinds.js'

/**
 * Managed Agents objects (claude-api-2026.md §4; `@anthropic-ai/sdk` 1.14 `beta.*` types), owned per
 * principal like batches and files: one row per family, read by targets.ts (paths), created.ts
 * (create answers), list filtering and the body references below.
 */
export type ManagedKind = Extract<OwnedKind, 'agent' | 'environment' | 'session' | 'deployment' | 'deployment_run' | 'vault' | 'memory_store' | 'tunnel'>

/** `/v1/<segment>` → the kind of its objects. */
const families: ReadonlyMap<string, ManagedKind> = new Map([
  ['agents', 'agent'],
  ['environments', 'environment'],
  ['sessions', 'session'],
  ['deployments', 'deployment'],
  ['deployment_runs', 'deployment_run'],
  ['vaults', 'vault'],
  ['memory_stores', 'memory_store'],
  ['tunnels', 'tunnel'],
])

const COLLECTION = /^\/v1\/([a-z_]+)$/
const OBJECT = /^\/v1\/([a-z_]+)\/([^/]+)(?:\/.*)?$/
const DEPLOYMENT_RUN = /^\/v1\/deployments\/[^/]+\/run$/

/**
 * The object a Managed Agents path addresses, whatever the method and sub-path (`/archive`,
 * `/versions`, `/events`, `/events/stream`, `/credentials/{id}`, `/memories/{id}`, `/reveal_token`,
 * `/run`, …): everything under an object is the object's owner's. Reads are checked too: an agent's
 * definition, a session's events and a memory store's memories are one principal's work.
 */
export function managedPathObject(path: string): OwnedObject | undefined {
  const match = OBJECT.exec(path)
  const kind = match?.[1] === undefined ? undefined : families.get(match[1])
  if (kind === undefined || match?.[2] === undefined) return undefined
  return { kind, id: match[2] }
}

/** `GET /v1/<family>`: a page whose `data` is cut down to the caller's objects. */
export function managedListKind(path: string): ManagedKind | undefined {
  const segment = COLLECTION.exec(path)?.[1]
  return segment === undefined ? undefined : families.get(segment)
}

/** `POST /v1/<family>` creates one object; `POST /v1/deployments/{id}/run` starts a run (and its session). */
export function isManagedCreate(path: string): boolean {
  if (DEPLOYMENT_RUN.test(path)) return true
  const segment = COLLECTION.exec(path)?.[1]
  // Deployment runs are started through their deployment, never created on the collection.
  return segment !== undefined && segment !== 'deployment_runs' && families.has(segment)
}

/**
 * What a Managed Agents create answer names: the new object (`id`); for a deployment run, the run
 * and the session it started (`session_id`), which belong to whoever ran the deployment.
 */
export function managedCreated(path: string, answer: Record<string, unknown>): OwnedObject[] {
  const id = answer.id
  if (typeof id !== 'string' || id === '') return []
  if (DEPLOYMENT_RUN.test(path)) {
    const session = answer.session_id
    return [{ kind: 'deployment_run', id }, ...(typeof session === 'string' && session !== '' ? [{ kind: 'session' as const, id: session }] : [])]
  }
  const kind = managedListKind(path)
  return kind === undefined ? [] : [{ kind, id }]
}

/** A Managed Agents object a request body cites, and where (`resources[1]`), for the audit. */
export interface ManagedReference extends OwnedObject {
  readonly at: string
}

/** Members whose string value (or list of strings) is one object's id. */
const idMembers: ReadonlyMap<string, ManagedKind> = new Map([
  ['agent_id', 'agent'],
  ['environment_id', 'environment'],
  ['session_id', 'session'],
  ['deployment_id', 'deployment'],
  ['vault_id', 'vault'],
  ['vault_ids', 'vault'],
  ['memory_store_id', 'memory_store'],
  ['memory_store_ids', 'memory_store'],
  ['tunnel_id', 'tunnel'],
])

/** Object types that cite an agent by `id`: `{type:"agent", id, version}`, `{type:"agent_with_overrides", id, …}`. */
const agentReferenceTypes: ReadonlySet<string> = new Set(['agent', 'agent_with_overrides'])

/**
 * Every Managed Agents object a body cites (SDK 1.14 shapes): a session's or deployment's `agent`
 * (an id string, or `{type:"agent"|"agent_with_overrides", id}`), a multiagent roster's `agents`
 * (id strings and `{type:"agent", id}`), `environment_id`, `vault_ids`, a memory store resource's
 * `memory_store_id`, and any other `*_id` member of the table above wherever it sits, so a new
 * place is checked rather than missed. A present reference that is not a string is kept as `''`, an
 * id no one owns, so the body is refused; past 256 levels or 10 000 references likewise.
 */
export function managedReferences(json: unknown): ManagedReference[] {
  const found: ManagedReference[] = []
  const add = (kind: ManagedKind, value: unknown, at: Place | undefined) => found.push({ kind, id: typeof value === 'string' ? value : '', at: placeText(at) })
  const stopped = walkBodyObjects(json, () => found.length, (object, place, descend) => {
    if (typeof object.type === 'string' && agentReferenceTypes.has(object.type) && object.id !== undefined) add('agent', object.id, place)
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue
      const member = object[key]
      const kind = idMembers.get(key)
      if (kind !== undefined && member !== null && member !== undefined) {
        const here = placeOf(place, key)
        if (Array.isArray(member)) member.forEach((item, i) => add(kind, item, placeOf(here, i)))
        else add(kind, member, here)
      } else if ((key === 'agent' || key === 'agents') && member !== null && member !== undefined) {
        // An id string is a reference; objects are walked (their `type` says whether they cite one).
        const here = placeOf(place, key)
        const items: unknown[] = key === 'agents' && Array.isArray(member) ? member : [member]
        items.forEach((item, i) => {
          const itemAt = key === 'agents' && Array.isArray(member) ? placeOf(here, i) : here
          if (typeof item === 'object' && item !== null) descend(item, itemAt)
          else add('agent', item, itemAt)
        })
      } else if (typeof member === 'object' && member !== null) descend(member, placeOf(place, key))
    }
  })
  return stopped === undefined ? found : [...found, { kind: 'agent', id: '', at: stopped }]
}
