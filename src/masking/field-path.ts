/**
 * Whole-field masking paths, relative to a Messages response: `content[*].input.password`,
 * `content[0].input.*`, `content[*].content.stdout`. Segments: a key, `*` (any key), `[n]`, `[*]`.
 * Paths are parsed once when the masker is compiled; matching walks them alongside the JSON.
 */
export type PathSegment =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'any-key' }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'any-index' }

export type FieldPath = readonly PathSegment[]

/** A path and how many of its segments the walk has consumed. */
export interface FieldCursor {
  readonly path: FieldPath
  readonly at: number
}

const TOKEN = /^(?:\[(\*|\d+)\]|([A-Za-z_$][\w$-]*|\*))/

/** Parses a field path; returns an error message instead of throwing so callers can collect all. */
export function parseFieldPath(source: string): FieldPath | string {
  const segments: PathSegment[] = []
  let rest = source
  while (rest.length > 0) {
    if (segments.length > 0 && rest.startsWith('.')) rest = rest.slice(1)
    const m = TOKEN.exec(rest)
    if (!m) return `invalid field path "${source}": expected a key, "*", "[n]" or "[*]" at "${rest}"`
    if (m[1] === '*') segments.push({ kind: 'any-index' })
    else if (m[1] !== undefined) segments.push({ kind: 'index', index: Number(m[1]) })
    else if (m[2] === '*') segments.push({ kind: 'any-key' })
    else segments.push({ kind: 'key', key: m[2]! })
    rest = rest.slice(m[0].length)
  }
  if (segments.length === 0) return 'empty field path'
  const first = segments[0]!
  if (first.kind !== 'key' || first.key !== 'content' || segments.length < 3) {
    return `field path "${source}" must start with content[…] and name a field inside a block (e.g. content[*].input.password)`
  }
  return segments
}

function segmentMatches(segment: PathSegment, step: string | number): boolean {
  switch (segment.kind) {
    case 'key': return typeof step === 'string' && segment.key === step
    case 'any-key': return typeof step === 'string'
    case 'index': return typeof step === 'number' && segment.index === step
    case 'any-index': return typeof step === 'number'
  }
}

/** Cursors after descending into `step`; `whole` is true when some path ends exactly there. */
export function advance(cursors: readonly FieldCursor[], step: string | number): { cursors: FieldCursor[]; whole: boolean } {
  const next: FieldCursor[] = []
  let whole = false
  for (const cursor of cursors) {
    const segment = cursor.path[cursor.at]
    if (segment === undefined || !segmentMatches(segment, step)) continue
    if (cursor.at + 1 === cursor.path.length) whole = true
    else next.push({ path: cursor.path, at: cursor.at + 1 })
  }
  return { cursors: next, whole }
}

export const startCursors = (paths: readonly FieldPath[]): FieldCursor[] => paths.map((path) => ({ path, at: 0 }))

/** Cursors for content block `index` of a message. */
export function blockCursors(paths: readonly FieldPath[], index: number): FieldCursor[] {
  return advance(advance(startCursors(paths), 'content').cursors, index).cursors
}
