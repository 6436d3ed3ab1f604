import { skillVersionId, type OwnedObject } from './kinds.js'
import { isManagedCreate, managedCreated } from './managed-agents.js'
import { fileReferences } from './references.js'

/**
 * What a successful upstream response created, to be recorded against the caller before the client
 * sees it: the object of a create call, and the container and output files of a Messages response.
 */

const SKILL_VERSIONS = /^\/v1\/skills\/([^/]+)\/versions$/

/** Create calls whose JSON answer is the new object. */
export function isCreateCall(method: string, path: string): boolean {
  return method === 'POST' && (path === '/v1/messages/batches' || path === '/v1/files' || path === '/v1/skills' || SKILL_VERSIONS.test(path) || isManagedCreate(path))
}

/** The objects a create call's answer names (reference §10, §11; claude-api-2026.md §4); empty when it names none. */
export function createdObjects(path: string, answer: unknown): OwnedObject[] {
  if (!isObject(answer) || typeof answer.id !== 'string' || answer.id === '') return []
  const id = answer.id
  if (path === '/v1/messages/batches') return [{ kind: 'batch', id }]
  if (path === '/v1/files') return [{ kind: 'file', id }]
  if (isManagedCreate(path)) return managedCreated(path, answer)
  if (path === '/v1/skills') {
    // GA `latest_version_id`, beta `latest_version`: the first version is the creator's too.
    const latest = answer.latest_version_id ?? answer.latest_version
    return [{ kind: 'skill', id }, ...(typeof latest === 'string' && latest !== '' ? [{ kind: 'skill_version' as const, id: skillVersionId(id, latest) }] : [])]
  }
  const skillId = SKILL_VERSIONS.exec(path)?.[1]
  if (skillId === undefined) return []
  // The beta shape names the version in `version`; `id` is the GA `skver_…`.
  const version = typeof answer.version === 'string' && answer.version !== '' ? answer.version : id
  return [{ kind: 'skill_version', id: skillVersionId(skillId, version) }]
}

/**
 * A Messages answer, or a streamed event's data: the code-execution container (`container.id`,
 * `delta.container.id` when streaming) and the files code execution produced. Files are read only
 * from code-execution result blocks (`bash_code_execution_tool_result`, `code_execution_tool_result`,
 * …; `content_block` of a streamed `content_block_start`), which the API writes: a `file_id` the model
 * wrote elsewhere (a tool call's input) could name someone else's ownerless file and must not claim it.
 */
export function messageObjects(message: unknown): OwnedObject[] {
  const out: OwnedObject[] = []
  const holder = isObject(message) && isObject(message.delta) ? message.delta : message
  const container = isObject(holder) && isObject(holder.container) ? holder.container.id : undefined
  if (typeof container === 'string' && container !== '') out.push({ kind: 'container', id: container })
  const blocks = isObject(message) ? (Array.isArray(message.content) ? message.content : [message.content_block]) : []
  for (const block of blocks) {
    if (!isObject(block) || typeof block.type !== 'string' || !block.type.endsWith('code_execution_tool_result')) continue
    for (const file of fileReferences(block.content)) if (file.id !== '') out.push({ kind: 'file', id: file.id })
  }
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
