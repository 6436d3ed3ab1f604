import { maskContentBlock } from './content-blocks.js'
import { MaskingError } from './errors.js'
import { blockCursors, type FieldPath } from './field-path.js'
import { isObject, type WalkContext } from './json-walk.js'

/**
 * Masks a parsed Messages response (`{type: "message", content: [...]}`) block by block. Fields
 * outside `content` (id, model, usage, container, stop_reason) are metadata and pass unchanged.
 */
export function maskMessageValue(
  message: unknown, paths: readonly FieldPath[], thinking: 'keep' | 'mask', ctx: WalkContext,
): unknown {
  if (!isObject(message) || !Array.isArray(message.content)) return message
  const content: readonly unknown[] = message.content
  let copy: unknown[] | undefined
  for (let i = 0; i < content.length; i++) {
    const block = content[i]
    const masked = maskContentBlock(block, paths.length > 0 ? blockCursors(paths, i) : [], thinking, ctx)
    if (masked !== block) (copy ??= content.slice())[i] = masked
  }
  return copy ? { ...message, content: copy } : message
}

/**
 * The JSON body of a non-streaming response. Re-serialised only when something was masked
 * (reference rule 4: forward bytes; parse only to inspect); otherwise the same Buffer comes back.
 */
export function maskMessageBuffer(
  body: Buffer, paths: readonly FieldPath[], thinking: 'keep' | 'mask', ctx: WalkContext,
): { body: Buffer; changed: boolean } {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new MaskingError('response body is not valid JSON; it cannot be masked', { cause: err })
  }
  const masked = maskMessageValue(parsed, paths, thinking, ctx)
  if (masked === parsed) return { body, changed: false }
  return { body: Buffer.from(JSON.stringify(masked), 'utf8'), changed: true }
}
