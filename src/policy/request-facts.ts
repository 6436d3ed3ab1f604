import type { EndpointName } from './endpoint.js'

/** What policy reads from a request body. Pure: takes parsed JSON, returns plain facts. */
export interface RequestFacts {
  /** Every model the request would run (a batch names one per entry); empty when none is named. */
  readonly models: readonly string[]
}

export function extractRequestFacts(endpoint: EndpointName | 'unknown', json: unknown): RequestFacts {
  if (endpoint === 'messages' || endpoint === 'count_tokens') return { models: modelOf(json) }
  if (endpoint === 'batches' && isObject(json) && Array.isArray(json.requests)) {
    return { models: json.requests.flatMap((entry) => (isObject(entry) ? modelOf(entry.params) : [''])) }
  }
  return { models: [] }
}

function modelOf(body: unknown): string[] {
  // A missing or non-string model is reported as '' so that policy denies it rather than skipping it.
  return [isObject(body) && typeof body.model === 'string' ? body.model : '']
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
