/**
 * Code-execution containers and API skills (reference §8.3, §9): when a request carries
 * `container.skills` or a `code_execution_*` tool, the reply runs "in a container" whose id, expiry and
 * resolved skill versions come back in the response. A container id sent back (`"<id>"` or `{id}`) is
 * reused, with the skills it was created with.
 */
import { newId } from './ids.js'
import { isRecord } from './http-io.js'
import type { ContainerSkill, MockState } from './types.js'

/** What `latest` of an Anthropic skill resolves to (Anthropic skill versions are dates). */
export const ANTHROPIC_SKILL_LATEST = '20251013'
/** `latest` of a custom skill the mock does not know (the mock accepts unknown skills). */
export const UNKNOWN_CUSTOM_SKILL_LATEST = 'skver_01MockLatestVersion00000'
const CONTAINER_TTL_MS = 30 * 60 * 1000
/** Bounds memory when a benchmark sends thousands of skill requests. */
const MAX_REMEMBERED_CONTAINERS = 10_000

export interface ContainerInfo {
  id: string
  expires_at: string
  skills: ContainerSkill[] | null
}

function requestedSkills(body: Record<string, unknown>): unknown[] {
  const container = body.container
  return isRecord(container) && Array.isArray(container.skills) ? container.skills : []
}

export function wantsCodeExecution(body: Record<string, unknown>): boolean {
  if (requestedSkills(body).length > 0) return true
  const tools = Array.isArray(body.tools) ? body.tools : []
  return tools.some((tool) => isRecord(tool) && typeof tool.type === 'string' && tool.type.startsWith('code_execution_'))
}

function resolveSkill(raw: unknown, state: MockState): ContainerSkill | undefined {
  if (!isRecord(raw) || typeof raw.skill_id !== 'string') return undefined
  const type = typeof raw.type === 'string' ? raw.type : 'anthropic'
  const requested = typeof raw.version === 'string' ? raw.version : 'latest'
  let version = requested
  if (requested === 'latest') {
    const stored = state.skills.get(raw.skill_id)?.versions[0]?.id
    version = stored ?? (type === 'anthropic' ? ANTHROPIC_SKILL_LATEST : UNKNOWN_CUSTOM_SKILL_LATEST)
  }
  return { type, skill_id: raw.skill_id, version }
}

function requestedContainerId(body: Record<string, unknown>): string | undefined {
  const container = body.container
  if (typeof container === 'string' && container.length > 0) return container
  if (isRecord(container) && typeof container.id === 'string' && container.id.length > 0) return container.id
  return undefined
}

function remember(state: MockState, id: string, skills: ContainerSkill[] | null): void {
  state.containers.delete(id)
  state.containers.set(id, skills)
  if (state.containers.size > MAX_REMEMBERED_CONTAINERS) {
    const oldest = state.containers.keys().next()
    if (oldest.done !== true) state.containers.delete(oldest.value)
  }
}

export function resolveContainer(body: Record<string, unknown>, state: MockState): ContainerInfo {
  const reused = requestedContainerId(body)
  const id = reused ?? newId('container')
  const raw = requestedSkills(body)
  let skills: ContainerSkill[] | null
  if (raw.length > 0) {
    skills = raw.map((entry) => resolveSkill(entry, state)).filter((s): s is ContainerSkill => s !== undefined)
  } else {
    skills = reused !== undefined ? (state.containers.get(reused) ?? null) : null
  }
  remember(state, id, skills)
  return { id, expires_at: new Date(Date.now() + CONTAINER_TTL_MS).toISOString(), skills }
}

/** The directory a skill is mounted under (`/skills/<name>/`). */
export function skillDirectory(skill: ContainerSkill, state: MockState): string {
  return state.skills.get(skill.skill_id)?.versions[0]?.name ?? skill.skill_id
}
