/**
 * The one JSON parse of a request body (SPEC §8 "duplicate JSON members → 400"). `JSON.parse`
 * silently keeps the last of two equal member names, so `{"model":"claude-haiku-4-5","model":
 * "claude-opus-4-1"}` would be judged by policy as one model while the original bytes, forwarded
 * unchanged, may mean the other to the upstream's parser. A strict parser in JavaScript is several
 * times slower than `JSON.parse` on a 32 MB body, so duplicates are found by counting instead:
 *
 * 1. `JSON.parse` (native speed) builds the value;
 * 2. one pass over the bytes counts the `:` outside strings — in valid JSON exactly one per object
 *    member — jumping over string contents with the native `indexOf`;
 * 3. the walk that checks depth and numbers anyway also sums the parsed objects' own keys.
 *
 * A duplicate collapses two members into one key, so the two totals differ exactly when some object
 * repeats a name. Only then does a slow scan look for which one, to name it in the error.
 */

/** Deepest nesting the audit's canonical JSON hashes (and the walk visits) without recursion limits. */
export const MAX_BODY_DEPTH = 256

export type JsonBodyProblem = 'malformed' | 'too-deep' | 'non-finite-number' | 'duplicate-member'

export class JsonBodyError extends Error {
  constructor(
    readonly problem: JsonBodyProblem,
    /** Safe to show the client: a member path, never a value. */
    readonly publicDetail?: string,
  ) {
    super(publicDetail ? `${problem}: ${publicDetail}` : problem)
    this.name = 'JsonBodyError'
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a

/**
 * Parses a request body as JSON and refuses duplicate member names at any depth, nesting deeper
 * than `MAX_BODY_DEPTH` and numbers that overflow to ±Infinity.
 * @example parseJsonBody(Buffer.from('{"a":1}')) // { a: 1 }
 */
export function parseJsonBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new JsonBodyError('malformed')
  }
  const keys = countKeysChecked(value)
  if (keys !== countMemberColons(bytes)) throw new JsonBodyError('duplicate-member', findDuplicate(text))
  return value
}

/** `:` bytes outside strings. Only called on text `JSON.parse` accepted, so strings are well formed. */
export function countMemberColons(bytes: Buffer): number {
  let colons = 0
  const end = bytes.length
  let i = 0
  while (i < end) {
    const byte = bytes[i] as number
    if (byte === COLON) colons++
    else if (byte === QUOTE) {
      i = closingQuote(bytes, i + 1)
    }
    i++
  }
  return colons
}

/** Index of the quote that closes a string whose content starts at `from` (escaped quotes skipped). */
function closingQuote(bytes: Buffer, from: number): number {
  let at = bytes.indexOf(QUOTE, from)
  while (at !== -1) {
    let backslashes = 0
    for (let j = at - 1; j >= from && bytes[j] === BACKSLASH; j--) backslashes++
    if (backslashes % 2 === 0) return at
    at = bytes.indexOf(QUOTE, at + 1)
  }
  return bytes.length
}

/** Own keys of every object, checking depth and finite numbers on the way; iterative. */
function countKeysChecked(root: unknown): number {
  let keys = 0
  const values: unknown[] = [root]
  const depths: number[] = [0]
  while (values.length > 0) {
    const v = values.pop()
    const depth = depths.pop() as number
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new JsonBodyError('non-finite-number', 'a number out of range')
      continue
    }
    if (typeof v !== 'object' || v === null) continue
    if (depth >= MAX_BODY_DEPTH) throw new JsonBodyError('too-deep', `nested deeper than ${MAX_BODY_DEPTH} levels`)
    if (Array.isArray(v)) {
      for (const item of v) {
        values.push(item)
        depths.push(depth + 1)
      }
      continue
    }
    for (const key in v) {
      keys++
      values.push((v as Record<string, unknown>)[key])
      depths.push(depth + 1)
    }
  }
  return keys
}

/**
 * The path of the first repeated member name (`messages[0].content[1].text`), found by a slow scan
 * that keeps one set of names per open object. Runs only on bodies already known to repeat one.
 */
function findDuplicate(text: string): string {
  const frames: { names: Set<string> | undefined; path: string; index: number; key: string | undefined }[] = []
  let i = 0
  let expectKey = false
  const here = () => frames.at(-1)
  const childPath = (): string => {
    const top = here()
    if (!top) return ''
    return top.names ? `${top.path}${top.path ? '.' : ''}${top.key ?? ''}` : `${top.path}[${top.index}]`
  }
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      const end = stringEnd(text, i + 1)
      const top = here()
      if (expectKey && top?.names) {
        const name = JSON.parse(text.slice(i, end + 1)) as string
        if (top.names.has(name)) return `${top.path}${top.path ? '.' : ''}${name}`.slice(0, 200)
        top.names.add(name)
        top.key = name
        expectKey = false
      }
      i = end + 1
      continue
    }
    if (c === '{' || c === '[') {
      frames.push({ names: c === '{' ? new Set() : undefined, path: childPath(), index: 0, key: undefined })
      expectKey = c === '{'
    } else if (c === '}' || c === ']') frames.pop()
    else if (c === ',') {
      const top = here()
      if (top?.names) expectKey = true
      else if (top) top.index++
    }
    i++
  }
  return 'a member name'
}

function stringEnd(text: string, from: number): number {
  let i = from
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
  return i
}
