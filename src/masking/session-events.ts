import { fieldName, isObject, maskJson, type StringRule, type WalkContext } from './json-walk.js'

/**
 * Managed Agents session events (`GET /v1/sessions/{id}/events/stream` and the `data` of
 * `GET /v1/sessions/{id}/events`; claude-api-2026.md §4). Each event arrives whole, so each is
 * masked on its own with no hold-back: the text of `agent.message` and `agent.thinking`, tool
 * inputs (`agent.tool_use`, `agent.mcp_tool_use`, `agent.custom_tool_use`), tool results and any
 * event type this version does not know: every string but the envelope's identifiers, times and
 * names (fail closed: an unknown event is masked like content, never passed raw).
 */
const ENVELOPE_FIELDS = new Set([
  'type', 'id', 'session_id', 'thread_id', 'agent_id', 'parent_id', 'event_ids', 'processed_at', 'created_at',
  'updated_at', 'tool_use_id', 'mcp_server_name', 'server_name', 'name', 'file_id', 'media_type', 'signature',
  'encrypted_content', 'status', 'model', 'request_id',
])

const sessionRule: StringRule = (path) => {
  const name = fieldName(path)
  return name === undefined || !ENVELOPE_FIELDS.has(name)
}

/**
 * Streamed previews (`event_delta`, sent only when the client asked for `event_deltas`) carry
 * fragments of an event still being written: a secret may straddle two of them, and they are
 * best-effort by contract (the finished event carries the complete content). Under masking they
 * are withheld; the finished event is masked whole.
 */
export const isSessionPreview = (event: unknown): boolean => isObject(event) && event.type === 'event_delta'

/** One session event masked copy-on-write: the same object back when nothing changed. */
export function maskSessionEventValue(event: unknown, ctx: WalkContext): unknown {
  return maskJson(event, sessionRule, [], ctx)
}
