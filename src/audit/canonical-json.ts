/**
 * Canonical JSON for hashing (in the spirit of RFC 8785 JCS): object keys sorted by UTF-16 code
 * units, no whitespace, `undefined` members omitted, strings and numbers as `JSON.stringify` writes
 * them (ES2019 well-formed stringify escapes lone surrogates, so the text is valid UTF-8 for every
 * store). Two equal values always give the same text, so a hash over it is reproducible by any
 * verifier that follows docs/audit.md.
 *
 * Every record is hashed, so this is on the audit's hot path. The text is exactly what the native
 * `JSON.stringify` writes once every object's keys are in order, so one walk checks the value (plain,
 * finite, JSON-only) and copies only the objects whose keys are out of order; the native serialiser
 * then writes it at several times the speed of a hand-written one. An object with an array-index
 * key ("0", "17") cannot be re-ordered (engines enumerate such keys first, in numeric order), so a
 * value holding one is written by the hand-written writer instead.
 */
export function canonicalJson(value: unknown): string {
  const ordered = inKeyOrder(value, 0)
  return ordered === needsWriter ? write(value, 0) : (JSON.stringify(ordered) as string)
}

/** Deeper than this is not a plausible request body; refusing it keeps recursion bounded. */
const maxDepth = 512

const needsWriter: unique symbol = Symbol('needs the hand-written writer')

/** `value` itself when every object in it already has its keys in order, else a copy that has. */
function inKeyOrder(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return leaf(value)
  if (depth > maxDepth) throw new TypeError('canonicalJson: value nested too deeply')
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      // JSON.stringify writes undefined array items as null, as the writer does.
      if (item === undefined) continue
      const ordered = inKeyOrder(item, depth + 1)
      if (ordered === needsWriter) return needsWriter
      if (ordered !== item) (copy ??= value.slice())[i] = ordered
    }
    return copy ?? value
  }
  plainOnly(value)
  const object = value as Record<string, unknown>
  const keys = Object.keys(object)
  let inOrder = true
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (isArrayIndex(key)) return needsWriter
    if (i > 0 && (keys[i - 1] as string) > key) inOrder = false
  }
  if (!inOrder) sortKeys(keys)
  let copy: Record<string, unknown> | undefined = inOrder ? undefined : {}
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const member = object[key]
    if (member === undefined) continue
    const ordered = inKeyOrder(member, depth + 1)
    if (ordered === needsWriter) return needsWriter
    if (copy === undefined && ordered !== member) copy = prefix(object, keys, i)
    if (copy !== undefined) put(copy, key, ordered)
  }
  return copy ?? object
}

/**
 * A plain object keeps the fast property layout the native serialiser is quick on (a null-prototype
 * one would not); only a `__proto__` member needs defining rather than assigning, to stay a member.
 */
function put(copy: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
  else copy[key] = value
}

/** A copy holding the first `count` members (already in order and unchanged). */
function prefix(object: Record<string, unknown>, keys: readonly string[], count: number): Record<string, unknown> {
  const copy: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const key = keys[i] as string
    if (object[key] !== undefined) put(copy, key, object[key])
  }
  return copy
}

function leaf(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number')
      return value
    case 'object':
      return value // null
    default:
      // undefined, bigint, function, symbol: not JSON, so not hashable without ambiguity.
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`)
  }
}

function plainOnly(object: object): void {
  const proto: unknown = Object.getPrototypeOf(object)
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError('canonicalJson: only plain objects are hashable (convert Dates to ISO strings first)')
  }
}

/** Canonical decimal integers below 2³²−1: the keys engines enumerate before all others. */
function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0)
  if (first < 48 || first > 57) return false
  if (key.length > 1 && first === 48) return false
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return key.length < 10 || Number(key) < 4_294_967_295
}

// The hand-written writer: for values with array-index keys, and the reference the fast path must equal.

function write(value: unknown, depth: number): string {
  if (depth > maxDepth) throw new TypeError('canonicalJson: value nested too deeply')
  if (typeof value !== 'object' || value === null) return JSON.stringify(leaf(value))
  return Array.isArray(value) ? writeArray(value, depth) : writeObject(value as Record<string, unknown>, depth)
}

function writeArray(items: readonly unknown[], depth: number): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    const item = items[i]
    out += item === undefined ? 'null' : write(item, depth + 1)
  }
  return `${out}]`
}

function writeObject(object: Record<string, unknown>, depth: number): string {
  plainOnly(object)
  const keys = sortKeys(Object.keys(object))
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

/**
 * Sorts in place by UTF-16 code units. An object has a handful of keys, and `Array.prototype.sort`
 * allocates work space on every call (a quarter of all bytes the audit allocated per request): a
 * small array is sorted by insertion instead, with no allocation.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 24) return keys.sort(byCodeUnits)
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string
    let j = i - 1
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string
      j--
    }
    keys[j + 1] = key
  }
  return keys
}
