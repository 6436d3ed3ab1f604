/**
 * Canonical JSON for hashing (in the spirit of RFC 8785 JCS): object keys sorted by UTF-16 code
 * units, no whitespace, `undefined` members omitted, strings and numbers as `JSON.stringify` writes
 * them (ES2019 well-formed stringify escapes lone surrogates, so the text is valid UTF-8 for every
 * store). Two equal values always give the same text, so a hash over it is reproducible by any
 * verifier that follows docs/audit.md.
 *
 * Every record is hashed, so this is on the audit's hot path: one pass that appends to a single
 * string, sorts an object's keys only when they are not already in order, and hands leaves to the
 * native `JSON.stringify`.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0)
}

/** Deeper than this is not a plausible request body; refusing it keeps recursion bounded. */
const maxDepth = 512

function write(value: unknown, depth: number): string {
  if (depth > maxDepth) throw new TypeError('canonicalJson: value nested too deeply')
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number')
      return JSON.stringify(value)
    case 'object':
      return Array.isArray(value) ? writeArray(value, depth) : writeObject(value as Record<string, unknown>, depth)
    default:
      // undefined, bigint, function, symbol: not JSON, so not hashable without ambiguity.
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`)
  }
}

function writeArray(items: readonly unknown[], depth: number): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    const item = items[i]
    // JSON.stringify writes undefined array items as null; do the same so round-trips agree.
    out += item === undefined ? 'null' : write(item, depth + 1)
  }
  return `${out}]`
}

function writeObject(object: Record<string, unknown>, depth: number): string {
  const proto: unknown = Object.getPrototypeOf(object)
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError('canonicalJson: only plain objects are hashable (convert Dates to ISO strings first)')
  }
  const keys = Object.keys(object)
  if (!sorted(keys)) keys.sort(byCodeUnits)
  let out = '{'
  let first = true
  for (const key of keys) {
    const value = object[key]
    if (value === undefined) continue
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(value, depth + 1)}`
    first = false
  }
  return `${out}}`
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function sorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false
  return true
}
