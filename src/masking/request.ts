import { isObject } from './json-walk.js'

/**
 * The user-supplied content of a Messages request, for `masking.requests.block` (refuse with 400)
 * and `masking.requests.mask` (the audit copy): system prompt, message text (every role: a client
 * can fabricate assistant turns), client tool results, documents with text sources and search
 * results. Not inspected: tool_use inputs, thinking and server-tool results (they came from the
 * model; thinking must stay byte-identical for its signature), and request parameters such as
 * `mcp_servers[].authorization_token`, which is a credential the request legitimately carries.
 */
export type RequestTextVisitor = (text: string, path: string) => string

type JsonObject = Record<string, unknown>

/** Visits every content string; rebuilds only the containers whose strings changed. */
export function visitRequestText(body: unknown, visit: RequestTextVisitor): unknown {
  if (!isObject(body)) return body
  let copy: JsonObject | undefined
  const system = visitContent(body.system, 'system', visit)
  if (system !== body.system) (copy ??= { ...body }).system = system
  if (Array.isArray(body.messages)) {
    const messages = mapArray(body.messages, (message, i) => visitMessage(message, `messages[${i}]`, visit))
    if (messages !== body.messages) (copy ??= { ...body }).messages = messages
  }
  return copy ?? body
}

function visitMessage(message: unknown, path: string, visit: RequestTextVisitor): unknown {
  if (!isObject(message)) return message
  const content = visitContent(message.content, `${path}.content`, visit)
  return content === message.content ? message : { ...message, content }
}

/** A `content` that is a string or an array of blocks. */
function visitContent(content: unknown, path: string, visit: RequestTextVisitor): unknown {
  if (typeof content === 'string') return content === '' ? content : visit(content, path)
  if (!Array.isArray(content)) return content
  return mapArray(content, (block, i) => visitBlock(block, `${path}[${i}]`, visit))
}

function visitBlock(block: unknown, path: string, visit: RequestTextVisitor): unknown {
  if (!isObject(block)) return block
  switch (block.type) {
    case 'text':
      return replaceField(block, 'text', path, visit)
    case 'tool_result':
      return replaceValue(block, 'content', visitContent(block.content, `${path}.content`, visit))
    case 'search_result': {
      const titled = replaceField(block, 'title', path, visit)
      return replaceValue(titled, 'content', visitContent(block.content, `${path}.content`, visit))
    }
    case 'document':
      return visitDocument(block, path, visit)
    default:
      return block
  }
}

function visitDocument(block: JsonObject, path: string, visit: RequestTextVisitor): JsonObject {
  let out = replaceField(replaceField(block, 'title', path, visit), 'context', path, visit)
  const source = block.source
  if (!isObject(source)) return out
  let masked: JsonObject = source
  if (source.type === 'text') masked = replaceField(source, 'data', `${path}.source`, visit)
  else if (source.type === 'content') masked = replaceValue(source, 'content', visitContent(source.content, `${path}.source.content`, visit))
  if (masked !== source) out = { ...out, source: masked }
  return out
}

function replaceField(obj: JsonObject, key: string, path: string, visit: RequestTextVisitor): JsonObject {
  const value = obj[key]
  if (typeof value !== 'string' || value === '') return obj
  return replaceValue(obj, key, visit(value, `${path}.${key}`))
}

function replaceValue(obj: JsonObject, key: string, value: unknown): JsonObject {
  return value === obj[key] ? obj : { ...obj, [key]: value }
}

function mapArray(items: readonly unknown[], fn: (item: unknown, i: number) => unknown): readonly unknown[] {
  let copy: unknown[] | undefined
  for (let i = 0; i < items.length; i++) {
    const mapped = fn(items[i], i)
    if (mapped !== items[i]) (copy ??= items.slice())[i] = mapped
  }
  return copy ?? items
}
