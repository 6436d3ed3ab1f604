/**
 * Sets of UTF-16 code units, as sorted, disjoint, inclusive ranges `[lo0, hi0, lo1, hi1, …]`.
 *
 * The engine matches code units, like a JavaScript RegExp without the `u` flag: model output is a
 * JS string, and every detector is ASCII-anchored, so code units keep the class table small.
 */
export type CodeUnitSet = readonly number[]

export const MAX_UNIT = 0xffff

/** Sorts and merges ranges (adjacent ranges are joined so equal sets have equal arrays). */
export function normalizeSet(ranges: readonly number[]): CodeUnitSet {
  const pairs: Array<[number, number]> = []
  for (let i = 0; i + 1 < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!])
  pairs.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  for (const [lo, hi] of pairs) {
    const last = out.length - 1
    if (last > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi)
    else out.push(lo, hi)
  }
  return out
}

export function unionSets(...sets: readonly CodeUnitSet[]): CodeUnitSet {
  return normalizeSet(sets.flat())
}

export function negateSet(set: CodeUnitSet): CodeUnitSet {
  const out: number[] = []
  let next = 0
  for (let i = 0; i < set.length; i += 2) {
    if (set[i]! > next) out.push(next, set[i]! - 1)
    next = set[i + 1]! + 1
  }
  if (next <= MAX_UNIT) out.push(next, MAX_UNIT)
  return out
}

export function setHas(set: CodeUnitSet, unit: number): boolean {
  for (let i = 0; i < set.length; i += 2) {
    if (unit < set[i]!) return false
    if (unit <= set[i + 1]!) return true
  }
  return false
}

export const single = (unit: number): CodeUnitSet => [unit, unit]

export const DIGIT: CodeUnitSet = [0x30, 0x39]
/** `\w` as in JavaScript without the `u`/`i` flags; also what `\b` tests. */
export const WORD: CodeUnitSet = normalizeSet([0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a])
/** `\s` exactly as ECMAScript defines WhiteSpace + LineTerminator. */
export const SPACE: CodeUnitSet = normalizeSet([
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f,
  0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff,
])
/** `.` without the `s` flag: anything but a line terminator. */
export const DOT: CodeUnitSet = negateSet(normalizeSet([0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]))

export const isWordUnit = (unit: number): boolean =>
  (unit >= 0x30 && unit <= 0x39) || (unit >= 0x41 && unit <= 0x5a) || unit === 0x5f || (unit >= 0x61 && unit <= 0x7a)
