import type { Masker, MaskHits } from '../masking/types.js'

/** Deeper than any plausible tool result; a deeper one is withheld rather than walked without bound. */
const maxDepth = 64

export class ResultMaskingError extends Error {}

/**
 * Masks a `tools/call` result with the rule's profiles (issue #19 item 4): the text of `text` content
 * blocks and embedded text resources, and every string of `structuredContent`. Other members (images,
 * ids, `isError`) pass unchanged. Pure; returns a copy and the hits per detector.
 */
export function maskToolResult(result: Readonly<Record<string, unknown>>, masker: Masker | undefined): { result: Record<string, unknown>; hits: MaskHits } {
  const hits: MaskHits = {}
  if (masker === undefined) return { result: { ...result }, hits }
  const text = (value: string): string => {
    const masked = masker.maskText(value)
    for (const [name, count] of Object.entries(masked.hits)) hits[name] = (hits[name] ?? 0) + count
    return masked.text
  }
  const out: Record<string, unknown> = { ...result }
  if (Array.isArray(result.content)) out.content = result.content.map((block: unknown) => maskBlock(block, text))
  if (result.structuredContent !== undefined) out.structuredContent = maskStrings(result.structuredContent, text, 0)
  return { result: out, hits }
}

function maskBlock(block: unknown, text: (value: string) => string): unknown {
  if (!isRecord(block)) return block
  if (block.type === 'text' && typeof block.text === 'string') return { ...block, text: text(block.text) }
  if (block.type === 'resource' && isRecord(block.resource) && typeof block.resource.text === 'string') {
    return { ...block, resource: { ...block.resource, text: text(block.resource.text) } }
  }
  return block
}

/** Every string of a JSON value, keys kept as they are (a key is a name, not content). */
export function maskStrings(value: unknown, text: (value: string) => string, depth: number): unknown {
  if (depth > maxDepth) throw new ResultMaskingError('structuredContent nests too deeply to mask')
  if (typeof value === 'string') return text(value)
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, text, depth + 1))
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskStrings(item, text, depth + 1)]))
  return value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
