import type { EndpointName } from '../config/schema.js'

export type { EndpointName }

/** The Claude API endpoint a request addresses; `unknown` paths are never granted. */
export interface Endpoint {
  readonly name: EndpointName | 'unknown'
  /** True when the body is one policy must read: a Messages body, a batch of them, a Managed Agents definition. */
  readonly inspectBody: boolean
}

const unknown: Endpoint = { name: 'unknown', inspectBody: false }

/** Classifies by method and pathname only; the query string never routes (`?beta=true`). */
export function classifyEndpoint(method: string, path: string): Endpoint {
  if (path === '/v1/messages') return { name: 'messages', inspectBody: method === 'POST' }
  if (path === '/v1/messages/count_tokens') return { name: 'count_tokens', inspectBody: method === 'POST' }
  if (under(path, '/v1/messages/batches')) {
    return { name: 'batches', inspectBody: method === 'POST' && path === '/v1/messages/batches' }
  }
  if (under(path, '/v1/models')) return { name: 'models', inspectBody: false }
  if (under(path, '/v1/files')) return { name: 'files', inspectBody: false }
  if (under(path, '/v1/skills')) {
    return { name: isRead(method) ? 'skills.read' : 'skills.manage', inspectBody: false }
  }
  return classifyManagedAgents(method, path) ?? unknown
}

/**
 * Managed Agents families (claude-api-2026.md §4), each its own grant, default deny. Bodies that
 * define what runs inside Anthropic are read: creating or updating an agent, environment, session
 * or deployment (`/v1/<family>` or `/v1/<family>/<id>`), and the events a client sends a session
 * (`POST /v1/sessions/<id>/events`: user messages, tool confirmations and results, system
 * messages), which carry text to Claude like a Messages body, so the request guard, file ownership
 * and the audit's masking read them too; so are memories written to a memory store
 * (`POST /v1/memory_stores/<id>/memories[/<id>]`), which agents read back into their context. Not
 * vault credentials or tunnels: their bodies reach no model, and leaving them unread keeps their
 * credentials out of the audit altogether.
 */
function classifyManagedAgents(method: string, path: string): Endpoint | undefined {
  const family = /^\/v1\/([a-z_]+)(?:\/[^/]+)?(\/.*)?$/.exec(path)
  if (!family) return undefined
  const [, name = '', rest] = family
  const definition = method === 'POST' && rest === undefined
  switch (name) {
    case 'agents':
      return isRead(method) ? { name: 'agents.read', inspectBody: false } : { name: 'agents.manage', inspectBody: definition }
    case 'sessions':
      return { name, inspectBody: definition || (method === 'POST' && rest === '/events') }
    case 'environments':
    case 'deployments':
      return { name, inspectBody: definition }
    case 'deployment_runs':
      return { name: 'deployments', inspectBody: false }
    case 'memory_stores':
      return { name, inspectBody: method === 'POST' && rest !== undefined && /^\/memories(?:\/[^/]+)?$/.test(rest) }
    case 'vaults':
    case 'tunnels':
      return { name, inspectBody: false }
    default:
      return undefined
  }
}

const under = (path: string, base: string) => path === base || path.startsWith(`${base}/`)
const isRead = (method: string) => method === 'GET' || method === 'HEAD'
