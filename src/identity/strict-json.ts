/**
 * Step 4 of the strict verifier (workload-identity.md §2.2): strict UTF-8 (RFC 8725 §3.7) and strict
 * JSON with **no duplicate member names at any depth**. `JSON.parse` keeps the last duplicate
 * silently, so `{"sub":"admin","sub":"legit"}` means different things to different parsers
 * (catalogue #18, #31). This is a small single-pass parser: linear in the input, depth-bounded, and
 * it builds null-prototype objects so a `__proto__` member is plain data (catalogue #57).
 */
import { TokenError } from './types.js'

/** Real tokens nest 2–3 levels (Kubernetes, AWS); the bound keeps recursion shallow. */
export const MAX_JSON_DEPTH = 32

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject
export interface JsonObject {
  [key: string]: JsonValue
}

// ignoreBOM: a leading U+FEFF is kept and then rejected as a JSON syntax error, instead of being
// stripped silently (RFC 8259 §8.1: implementations MUST NOT add a BOM).
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
const HEX4 = /^[0-9A-Fa-f]{4}$/

/**
 * Decodes `bytes` as UTF-8 and parses one JSON object.
 * @example parseStrictJsonObject(new TextEncoder().encode('{"a":1}'), 'payload') // { a: 1 }
 */
export function parseStrictJsonObject(bytes: Uint8Array, label: string): JsonObject {
  let text: string
  try {
    text = strictDecoder.decode(bytes)
  } catch {
    throw new TokenError('malformed', { detail: `${label} is not UTF-8` })
  }
  const value = new StrictJsonParser(text, label).parseDocument()
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenError('malformed', { detail: `${label} is not a JSON object` })
  }
  return value
}

/** Freezes a parsed value in place, all the way down. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}

class StrictJsonParser {
  private i = 0

  constructor(
    private readonly s: string,
    private readonly label: string,
  ) {}

  parseDocument(): JsonValue {
    const value = this.parseValue(0)
    this.skipWhitespace()
    if (this.i !== this.s.length) this.fail('trailing data')
    return value
  }

  private fail(what: string): never {
    throw new TokenError('malformed', { detail: `${this.label} JSON: ${what}` })
  }

  private skipWhitespace(): void {
    const s = this.s
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      this.i++
    }
  }

  private parseValue(depth: number): JsonValue {
    this.skipWhitespace()
    const c = this.s[this.i]
    switch (c) {
      case '{':
        return this.parseObject(depth + 1)
      case '[':
        return this.parseArray(depth + 1)
      case '"':
        return this.parseString()
      case 't':
        return this.literal('true', true)
      case 'f':
        return this.literal('false', false)
      case 'n':
        return this.literal('null', null)
      default:
        return this.parseNumber()
    }
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail('unexpected token')
    this.i += word.length
    return value
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.i
    const match = NUMBER.exec(this.s)
    if (match === null) this.fail('unexpected token')
    this.i += match[0].length
    // May be ±Infinity (`1e400`); NumericDates are checked for finiteness in step 10.
    return Number(match[0])
  }

  private parseString(): string {
    const s = this.s
    const start = this.i
    let escaped = false
    this.i++ // opening quote
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string')
      const c = s.charCodeAt(this.i)
      if (c === 0x22) break
      if (c < 0x20) this.fail('control character in string')
      if (c === 0x5c) {
        escaped = true
        const e = s[this.i + 1]
        if (e === 'u') {
          if (!HEX4.test(s.slice(this.i + 2, this.i + 6))) this.fail('bad \\u escape')
          this.i += 6
          continue
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('bad escape')
        this.i += 2
        continue
      }
      this.i++
    }
    this.i++ // closing quote
    if (!escaped) return s.slice(start + 1, this.i - 1)
    // The literal is validated above; JSON.parse of it decodes escapes exactly like jose will.
    return JSON.parse(s.slice(start, this.i)) as string
  }

  private parseArray(depth: number): JsonValue[] {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep')
    this.i++ // [
    const out: JsonValue[] = []
    this.skipWhitespace()
    if (this.s[this.i] === ']') {
      this.i++
      return out
    }
    for (;;) {
      out.push(this.parseValue(depth))
      this.skipWhitespace()
      const c = this.s[this.i++]
      if (c === ']') return out
      if (c !== ',') this.fail('expected , or ]')
    }
  }

  private parseObject(depth: number): JsonObject {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep')
    this.i++ // {
    const out = Object.create(null) as JsonObject
    this.skipWhitespace()
    if (this.s[this.i] === '}') {
      this.i++
      return out
    }
    for (;;) {
      this.skipWhitespace()
      if (this.s[this.i] !== '"') this.fail('expected member name')
      // Names are compared after unescaping: "sub" and "s\u0075b" are the same member.
      const name = this.parseString()
      if (Object.hasOwn(out, name)) {
        throw new TokenError('duplicate_member', { detail: `${this.label} has a duplicate member name` })
      }
      this.skipWhitespace()
      if (this.s[this.i++] !== ':') this.fail('expected :')
      // On a null-prototype object `out['__proto__'] = v` defines an own data property.
      out[name] = this.parseValue(depth)
      this.skipWhitespace()
      const c = this.s[this.i++]
      if (c === '}') return out
      if (c !== ',') this.fail('expected , or }')
    }
  }
}
