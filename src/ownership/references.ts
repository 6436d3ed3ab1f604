import type { OwnedObject } from './kinds.js'
import { placeOf, placeText, walkBodyObjects } from './body-walk.js'
import { managedReferences } from './managed-agents.js'

/** A file a request body cites, and where (`messages[0].content[1].source`), for the audit. */
export interface FileReference extends OwnedObject {
  readonly kind: 'file'
  readonly at: string
}

/**
 * Every `file_id` a request body cites: document and image `source: {type: "file", file_id}`,
 * `container_upload {file_id}`, and any other place the API adds one, in messages, count_tokens and
 * each batch entry alike. Any member named `file_id` counts, so a new block type is checked rather
 * than missed; a present `file_id` that is not a string is kept as `''`, an id no one owns, so the
 * request is refused rather than the reference skipped. A body nested deeper than 256 levels or
 * citing more than 10 000 files is refused the same way (body-walk.ts).
 */
export function fileReferences(json: unknown): FileReference[] {
  const found: FileReference[] = []
  const stopped = walkBodyObjects(json, () => found.length, (object, place, descend) => {
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue
      const member = object[key]
      if (key === 'file_id') found.push({ kind: 'file', id: typeof member === 'string' ? member : '', at: placeText(place) })
      else if (typeof member === 'object' && member !== null) descend(member, placeOf(place, key))
    }
  })
  return stopped === undefined ? found : [...found, { kind: 'file', id: '', at: stopped }]
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
