import type { OwnedObject } from './kinds.js'
import { managedReferences } from './managed-agents.js'

/** A file a request body cites, and where (`messages[0].content[1].source`), for the audit. */
export interface FileReference extends OwnedObject {
  readonly kind: 'file'
  readonly at: string
}

const maxDepth = 256
const maxReferences = 10_000

/**
 * Every `file_id` a request body cites: document and image `source: {type: "file", file_id}`,
 * `container_upload {file_id}`, and any other place the API adds one, in messages, count_tokens and
 * each batch entry alike. Any member named `file_id` counts, so a new block type is checked rather
 * than missed; a present `file_id` that is not a string is kept as `''`, an id no one owns, so the
 * request is refused rather than the reference skipped. Iterative, so nesting cannot overflow the stack;
 * a body nested deeper than 256 levels or citing more than 10 000 files is refused the same way.
 */
export function fileReferences(json: unknown): FileReference[] {
  const found: FileReference[] = []
  const stack: Array<{ value: unknown; at: string; depth: number }> = [{ value: json, at: '', depth: 0 }]
  while (stack.length > 0) {
    const { value, at, depth } = stack.pop() as { value: unknown; at: string; depth: number }
    if (typeof value !== 'object' || value === null) continue
    // Past these bounds references could go unchecked: one reference no one owns refuses the body instead.
    if (depth > maxDepth || found.length >= maxReferences) return [...found, { kind: 'file', id: '', at: at === '' ? '(body)' : at }]
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], at: `${at}[${i}]`, depth: depth + 1 })
      continue
    }
    for (const [key, member] of Object.entries(value)) {
      if (key === 'file_id') found.push({ kind: 'file', id: typeof member === 'string' ? member : '', at: at === '' ? '(body)' : at })
      else if (typeof member === 'object' && member !== null) stack.push({ value: member, at: at === '' ? key : `${at}.${key}`, depth: depth + 1 })
    }
  }
  return found
}

/** Endpoints whose bodies are Managed Agents definitions or session events. */
const managedEndpoints: ReadonlySet<string> = new Set(['agents.manage', 'environments', 'sessions', 'deployments', 'vaults', 'memory_stores', 'tunnels'])

/**
 * Every object a request body cites, for the ownership check: files everywhere (a session's file
 * resources and the documents of its events too), and on Managed Agents endpoints the agents,
 * environments, vaults, memory stores, … it names (managed-agents.ts).
 */
export function bodyReferences(endpoint: string | undefined, json: unknown): Array<OwnedObject & { readonly at: string }> {
  const files = fileReferences(json)
  return endpoint !== undefined && managedEndpoints.has(endpoint) ? [...files, ...managedReferences(json)] : files
}
