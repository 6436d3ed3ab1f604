import type { FieldCursor } from './field-path.js'
import { fieldName, isObject, maskJson, type StringRule, type WalkContext } from './json-walk.js'

/**
 * Which strings of a response content block are content (masked) and which are protocol (kept):
 * one table for the JSON response and for `content_block_start` in streams, so both shapes are
 * masked the same way (SPEC §6; reference §5, §7.3–7.4).
 */

/** Identifiers, signatures and opaque blobs: masking them breaks the client or the next turn. */
const OPAQUE_FIELDS = new Set([
  'type', 'id', 'tool_use_id', 'signature', 'encrypted_content', 'encrypted_index', 'file_id',
  'media_type', 'error_code', 'page_age', 'retrieved_at', 'expires_at', 'container_id', 'server_name',
  'name', 'caller',
])

const CITATION_FIELDS = new Set(['cited_text', 'title', 'document_title'])

const TOOL_USE_TYPES = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use'])

const never: StringRule = () => false

/** Text: the text itself and what citations quote. */
const textRule: StringRule = (path) =>
  (path.length === 1 && path[0] === 'text') ||
  (path[0] === 'citations' && CITATION_FIELDS.has(fieldName(path) ?? ''))

const thinkingRule: StringRule = (path) => path.length === 1 && path[0] === 'thinking'

/** Tool calls: every string of the input (the model wrote all of them). */
const inputRule: StringRule = (path) => path[0] === 'input'

/**
 * Tool results (code execution stdout/stderr, fetched documents, search result titles, MCP
 * output) and block types this version does not know: every string except opaque fields. A
 * `data` field is content only in a text document source; elsewhere it is base64 (PDF, image).
 */
const resultRule: StringRule = (path, parent) => {
  const name = fieldName(path)
  if (name === undefined || OPAQUE_FIELDS.has(name)) return false
  if (name === 'data') return isObject(parent) && parent.type === 'text'
  return true
}

export function ruleForBlock(type: unknown, thinking: 'keep' | 'mask'): StringRule {
  if (type === 'text') return textRule
  if (type === 'thinking') return thinking === 'mask' ? thinkingRule : never
  if (type === 'redacted_thinking') return never
  if (typeof type === 'string' && TOOL_USE_TYPES.has(type)) return inputRule
  return resultRule
}

export const isToolUseBlock = (type: unknown): boolean => typeof type === 'string' && TOOL_USE_TYPES.has(type)

/** Masks one content block (copy-on-write; same object back when nothing changed). */
export function maskContentBlock(
  block: unknown, cursors: readonly FieldCursor[], thinking: 'keep' | 'mask', ctx: WalkContext,
): unknown {
  if (!isObject(block)) return block
  return maskJson(block, ruleForBlock(block.type, thinking), cursors, ctx)
}

/** Citation objects arrive alone in `citations_delta`; mask them as a text block's citations would be. */
export function maskCitation(citation: unknown, cursors: readonly FieldCursor[], ctx: WalkContext): unknown {
  const rule: StringRule = (path) => CITATION_FIELDS.has(fieldName(path) ?? '')
  return maskJson(citation, rule, cursors, ctx)
}
