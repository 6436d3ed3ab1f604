import { advance, type FieldCursor } from './field-path.js'
import type { MaskHits } from './types.js'

export const FIELD_DETECTOR = 'field'
export const FIELD_REDACTION = `[REDACTED:${FIELD_DETECTOR}]`

export type JsonPath = ReadonlyArray<string | number>
type JsonObject = Record<string, unknown>

/** Decides whether the string at `path` (relative to the walk's root) is content to mask. */
export type StringRule = (path: JsonPath, parent: JsonObject | readonly unknown[]) => boolean

export interface WalkContext {
  readonly maskText: (text: string) => string
  readonly hits: MaskHits
}

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Masks a JSON value copy-on-write: untouched subtrees keep their identity, so "nothing changed"
 * is `result === value` and the caller can forward the original bytes. Whole-field paths replace
 * a value of any type with the field redaction; detectors run on strings the rule selects.
 * Object keys are never rewritten (a renamed key would change the document's shape).
 */
export function maskJson(value: unknown, rule: StringRule, cursors: readonly FieldCursor[], ctx: WalkContext): unknown {
  return walk(value, [], cursors, rule, ctx, [])
}

function walk(
  value: unknown, path: Array<string | number>, cursors: readonly FieldCursor[], rule: StringRule,
  ctx: WalkContext, parent: JsonObject | readonly unknown[],
): unknown {
  if (typeof value === 'string') return value.length > 0 && rule(path, parent) ? ctx.maskText(value) : value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i]
      const masked = descend(child, i, path, cursors, rule, ctx, value)
      if (masked !== child) (copy ??= value.slice())[i] = masked
    }
    return copy ?? value
  }
  if (isObject(value)) {
    let copy: JsonObject | undefined
    for (const key of Object.keys(value)) {
      const child = value[key]
      const masked = descend(child, key, path, cursors, rule, ctx, value)
      if (masked !== child) (copy ??= { ...value })[key] = masked
    }
    return copy ?? value
  }
  return value
}

function descend(
  child: unknown, step: string | number, path: Array<string | number>, cursors: readonly FieldCursor[],
  rule: StringRule, ctx: WalkContext, parent: JsonObject | readonly unknown[],
): unknown {
  let next = cursors
  if (cursors.length > 0) {
    const moved = advance(cursors, step)
    if (moved.whole && child !== null && child !== undefined) {
      ctx.hits[FIELD_DETECTOR] = (ctx.hits[FIELD_DETECTOR] ?? 0) + 1
      return FIELD_REDACTION
    }
    next = moved.cursors
  }
  if (typeof child !== 'object' && typeof child !== 'string') return child
  path.push(step)
  try {
    return walk(child, path, next, rule, ctx, parent)
  } finally {
    path.pop()
  }
}

/** The nearest object key on the path (array indices skipped): the name of a string's field. */
export function fieldName(path: JsonPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i]
    if (typeof step === 'string') return step
  }
  return undefined
}

export function addHits(into: MaskHits, from: MaskHits): void {
  for (const [name, count] of Object.entries(from)) into[name] = (into[name] ?? 0) + count
}
