import { isObject } from './json-walk.js'

/**
 * Every string a request carries, for `masking.requests.block` (refuse with 400),
 * `masking.requests.mask` (rewrite what goes upstream) and the audit copy (SPEC §8 "whole
 * surface"): the walk covers the whole body — system, messages of every role, tool definitions
 * and client-written tool inputs, stop sequences, metadata, every entry of a batch, fields the API
 * adds tomorrow — except the documented opaque fields below, which carry no user text or must
 * stay byte-identical:
 *
 * - ids: `id` and every `*_id` member but `custom_id` (tool_use_id, file_id, skill_id, …);
 * - `signature` and `encrypted_*` (thinking and advisor signatures, encrypted content);
 * - `data` of a `redacted_thinking` block;
 * - `data` of a base64 source whose `media_type` is not text (images, PDFs, spreadsheets);
 *   a base64 *text* document is decoded, scanned, and re-encoded when masked;
 * - `authorization_token` (the MCP connector credential the request legitimately carries; the
 *   audit copy redacts it whole).
 *
 * Thinking text is scanned when the walk only reads (`scan`, the audit copy) and left alone when it
 * rewrites what is forwarded, because masking it would break its signature. Member names are
 * scanned too (a secret used as a key would still leave), but never rewritten (docs/policy.md).
 */
export type RequestTextVisitor = (text: string, path: string) => string

export interface VisitOptions {
  /** True when the result is forwarded upstream: thinking text is then left unchanged. */
  readonly forwarded?: boolean
  /** Also visit member names (read-only: a returned change is ignored). */
  readonly keys?: boolean
}

type JsonObject = Record<string, unknown>

const OPAQUE_MEMBERS: ReadonlySet<string> = new Set(['id', 'signature', 'authorization_token'])

/** Whether the string member `key` of `parent` is opaque (see the module comment). */
export function isOpaqueMember(parent: JsonObject, key: string): boolean {
  if (OPAQUE_MEMBERS.has(key) || key.startsWith('encrypted_')) return true
  if (key.endsWith('_id') && key !== 'custom_id') return true
  if (key !== 'data') return false
  if (parent.type === 'redacted_thinking') return true
  return parent.type === 'base64' && !isTextMedia(parent.media_type)
}

const isTextMedia = (mediaType: unknown): boolean =>
  typeof mediaType === 'string' && (mediaType.startsWith('text/') || mediaType === 'application/json' || mediaType.endsWith('+json') || mediaType.endsWith('+xml'))

/**
 * Visits every non-opaque string of `body`; rebuilds only the containers whose strings changed, so
 * `result === body` means nothing changed and the original bytes can be forwarded.
 */
export function visitRequestText(body: unknown, visit: RequestTextVisitor, options: VisitOptions = {}): unknown {
  return visitValue(body, '', visit, options, false)
}

function visitValue(value: unknown, path: string, visit: RequestTextVisitor, options: VisitOptions, inThinking: boolean): unknown {
  if (typeof value === 'string') return value === '' ? value : visit(value, path || '(body)')
  if (Array.isArray(value)) return visitArray(value, path, visit, options, inThinking)
  if (isObject(value)) return visitObject(value, path, visit, options, inThinking)
  return value
}

function visitArray(items: readonly unknown[], path: string, visit: RequestTextVisitor, options: VisitOptions, inThinking: boolean): readonly unknown[] {
  let copy: unknown[] | undefined
  for (let i = 0; i < items.length; i++) {
    const mapped = visitValue(items[i], `${path}[${i}]`, visit, options, inThinking)
    if (mapped !== items[i]) (copy ??= items.slice())[i] = mapped
  }
  return copy ?? items
}

function visitObject(obj: JsonObject, path: string, visit: RequestTextVisitor, options: VisitOptions, inThinking: boolean): JsonObject {
  let copy: JsonObject | undefined
  const thinkingBlock = inThinking || obj.type === 'thinking'
  for (const key of Object.keys(obj)) {
    const at = path === '' ? key : `${path}.${key}`
    if (options.keys && key !== '') visit(key, `${at} (member name)`)
    const value = obj[key]
    let mapped: unknown
    if (typeof value === 'string') mapped = visitString(obj, key, value, at, visit, options, thinkingBlock)
    else mapped = visitValue(value, at, visit, options, thinkingBlock)
    if (mapped !== value) (copy ??= { ...obj })[key] = mapped
  }
  return copy ?? obj
}

function visitString(parent: JsonObject, key: string, value: string, at: string, visit: RequestTextVisitor, options: VisitOptions, inThinking: boolean): string {
  if (value === '' || isOpaqueMember(parent, key)) return value
  if (options.forwarded && inThinking && key === 'thinking') return value
  if (key === 'data' && parent.type === 'base64') return visitBase64Text(value, at, visit)
  return visit(value, at)
}

/** A base64 text document: scanned as the text it encodes; re-encoded only when that changed. */
function visitBase64Text(data: string, at: string, visit: RequestTextVisitor): string {
  const text = Buffer.from(data, 'base64').toString('utf8')
  const visited = visit(text, `${at} (decoded)`)
  return visited === text ? data : Buffer.from(visited, 'utf8').toString('base64')
}
