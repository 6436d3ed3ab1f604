/** Shapes of parsed JSON that every fact reader needs; pure helpers, no I/O. */

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A present non-list is one malformed entry, so it is denied rather than ignored. */
export function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

/** A string member, `''` when present but not a string (so a criterion denies it), undefined when absent. */
export function stringMember(object: Record<string, unknown>, name: string): string | undefined {
  const value = object[name]
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' ? value : ''
}
