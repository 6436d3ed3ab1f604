import type { EndpointName } from '../config/schema.js'

export type { EndpointName }

/** The Claude API endpoint a request addresses; `unknown` paths are never granted. */
export interface Endpoint {
  readonly name: EndpointName | 'unknown'
  /** True when the body is a Messages body (or a batch of them) that policy must read. */
  readonly inspectBody: boolean
}

const unknown: Endpoint = { name: 'unknown', inspectBody: false }

/** Classifies by method and pathname only; the query string never routes (`?beta=true`). */
export function classifyEndpoint(method: string, path: string): Endpoint {
  if (path === '/v1/messages') return { name: 'messages', inspectBody: method === 'POST' }
  if (path === '/v1/messages/count_tokens') return { name: 'count_tokens', inspectBody: method === 'POST' }
  if (path === '/v1/messages/batches' || path.startsWith('/v1/messages/batches/')) {
    return { name: 'batches', inspectBody: method === 'POST' && path === '/v1/messages/batches' }
  }
  if (path === '/v1/models' || path.startsWith('/v1/models/')) return { name: 'models', inspectBody: false }
  if (path === '/v1/files' || path.startsWith('/v1/files/')) return { name: 'files', inspectBody: false }
  if (path === '/v1/skills' || path.startsWith('/v1/skills/')) {
    return { name: method === 'GET' || method === 'HEAD' ? 'skills.read' : 'skills.manage', inspectBody: false }
  }
  return unknown
}
