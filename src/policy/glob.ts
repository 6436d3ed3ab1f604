/**
 * A `*`-only glob compiled to a linear-time matcher: the first part is a prefix, the last a suffix,
 * the middle parts are found left to right (greedy-left is exact when `*` is the only wildcard).
 * No RegExp, so a pattern from config can never backtrack.
 */
export function compileGlob(pattern: string): (value: string) => boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return (value) => value === pattern
  const first = parts[0] ?? ''
  const last = parts[parts.length - 1] ?? ''
  const middle = parts.slice(1, -1).filter((p) => p.length > 0)
  return function matchGlob(value) {
    if (value.length < first.length + last.length) return false
    if (!value.startsWith(first) || !value.endsWith(last)) return false
    let at = first.length
    const end = value.length - last.length
    for (const part of middle) {
      const found = value.indexOf(part, at)
      if (found === -1 || found + part.length > end) return false
      at = found + part.length
    }
    return true
  }
}
