import { DIGIT, DOT, SPACE, WORD, negateSet, single, unionSets, type CodeUnitSet } from './charset.js'

/**
 * Parser for the regular-expression subset the masking engine runs in linear time: JavaScript
 * syntax (without flags) minus every construct that needs backtracking. Refusing them here, with
 * the offset and a hint, is what lets a config author see at load time why `(?=…)` or `\1` is out.
 */
export type Assertion = 'start' | 'end' | 'word-boundary' | 'not-word-boundary'

export type RegexNode =
  | { readonly kind: 'set'; readonly set: CodeUnitSet }
  | { readonly kind: 'seq'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'alt'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'repeat'; readonly item: RegexNode; readonly min: number; readonly max: number }
  | { readonly kind: 'assert'; readonly assertion: Assertion }

/** Upper bound of a counted repetition, as in RE2: `{n,m}` is expanded into copies. */
export const MAX_REPEAT = 1000

export class RegexSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at offset ${offset})`)
    this.name = 'RegexSyntaxError'
  }
}

const QUANTIFIER = /^\{(\d+)(?:(,)(\d*))?\}/
const SIMPLE_QUANTIFIERS: ReadonlyMap<string, [number, number]> = new Map([
  ['*', [0, Infinity]],
  ['+', [1, Infinity]],
  ['?', [0, 1]],
])

export function parseRegex(source: string): RegexNode {
  const parser = new Parser(source)
  const node = parser.parseAlternation()
  if (parser.i < source.length) throw new RegexSyntaxError('unmatched ")"', parser.i)
  return node
}

class Parser {
  i = 0
  constructor(private readonly src: string) {}

  private fail(message: string, at = this.i): never {
    throw new RegexSyntaxError(message, at)
  }

  parseAlternation(): RegexNode {
    const items = [this.parseSequence()]
    while (this.src[this.i] === '|') {
      this.i++
      items.push(this.parseSequence())
    }
    return items.length === 1 ? items[0]! : { kind: 'alt', items }
  }

  private parseSequence(): RegexNode {
    const items: RegexNode[] = []
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      items.push(this.parseQuantified())
    }
    return items.length === 1 ? items[0]! : { kind: 'seq', items }
  }

  private parseQuantified(): RegexNode {
    const atomAt = this.i
    const atom = this.parseAtom()
    const bounds = this.parseQuantifier()
    if (!bounds) return atom
    if (atom.kind === 'assert') this.fail('nothing to repeat: an assertion cannot be quantified', atomAt)
    const next = this.src[this.i]
    if (next === '?') this.fail('lazy quantifiers are not supported: matches are leftmost-longest, remove the "?"')
    if (next === '*' || next === '+' || (next === '{' && QUANTIFIER.test(this.src.slice(this.i)))) {
      this.fail('nothing to repeat (possessive or stacked quantifiers are not supported)')
    }
    return { kind: 'repeat', item: atom, min: bounds[0], max: bounds[1] }
  }

  private parseQuantifier(): [number, number] | undefined {
    const simple = SIMPLE_QUANTIFIERS.get(this.src[this.i] ?? '')
    if (simple) {
      this.i++
      return simple
    }
    if (this.src[this.i] !== '{') return undefined
    const m = QUANTIFIER.exec(this.src.slice(this.i))
    if (!m) return undefined // a lone "{" is a literal, as in JavaScript
    const at = this.i
    this.i += m[0].length
    const min = Number(m[1])
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])
    if (min > max) this.fail(`numbers out of order in {${min},${max}}`, at)
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
      this.fail(`counted repetition above ${MAX_REPEAT} (use + or * and let maxLength bound the match)`, at)
    }
    return [min, max]
  }

  private parseAtom(): RegexNode {
    const c = this.src[this.i]!
    switch (c) {
      case '(':
        return this.parseGroup()
      case '[':
        return this.parseClass()
      case '.':
        this.i++
        return { kind: 'set', set: DOT }
      case '^':
        this.i++
        return { kind: 'assert', assertion: 'start' }
      case '$':
        this.i++
        return { kind: 'assert', assertion: 'end' }
      case '\\':
        return this.parseEscape()
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat')
      case '{':
        if (QUANTIFIER.test(this.src.slice(this.i))) this.fail('nothing to repeat')
        break
    }
    this.i++
    return { kind: 'set', set: single(c.charCodeAt(0)) }
  }

  private parseGroup(): RegexNode {
    const open = this.i
    this.i++
    if (this.src[this.i] === '?') this.parseGroupPrefix(open)
    const inner = this.parseAlternation()
    if (this.src[this.i] !== ')') this.fail('unterminated group', open)
    this.i++
    return inner
  }

  /** `(?:`, `(?<name>`, `(?P<name>` are plain groups (no captures are needed to mask). */
  private parseGroupPrefix(open: number): void {
    const rest = this.src.slice(this.i)
    if (rest.startsWith('?:')) return void (this.i += 2)
    if (/^\?(=|!|<=|<!)/.test(rest)) {
      this.fail('lookahead and lookbehind are not supported (they are not linear-time); use \\b or a wider match', open)
    }
    const named = /^\?P?<([A-Za-z_$][\w$]*)>/.exec(rest)
    if (named) return void (this.i += named[0].length)
    this.fail('inline flags and group modifiers "(?…)" are not supported', open)
  }

  private parseClass(): RegexNode {
    const open = this.i
    this.i++
    const negated = this.src[this.i] === '^'
    if (negated) this.i++
    const parts: CodeUnitSet[] = []
    while (this.src[this.i] !== ']') {
      if (this.i >= this.src.length) this.fail('unterminated character class', open)
      const from = this.parseClassAtom()
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length) {
        const dashAt = this.i
        this.i++
        const to = this.parseClassAtom()
        if (typeof from !== 'number' || typeof to !== 'number') this.fail('invalid range in character class', dashAt)
        if (from > to) this.fail('range out of order in character class', dashAt)
        parts.push([from, to])
      } else {
        parts.push(typeof from === 'number' ? single(from) : from)
      }
    }
    this.i++
    const set = unionSets(...parts)
    return { kind: 'set', set: negated ? negateSet(set) : set }
  }

  /** A single code unit (number) or a class escape such as `\d` (a set). */
  private parseClassAtom(): number | CodeUnitSet {
    const at = this.i
    const c = this.src[this.i]!
    if (c !== '\\') {
      this.i++
      const unit = c.charCodeAt(0)
      if (unit >= 0xd800 && unit <= 0xdfff) {
        this.fail('characters outside the Basic Multilingual Plane are not supported inside [...]', at)
      }
      return unit
    }
    const e = this.src[this.i + 1]
    if (e === 'b') {
      this.i += 2
      return 0x08
    }
    if (e === 'B') this.fail('\\B is not valid inside [...]', at)
    const node = this.parseEscape()
    if (node.kind !== 'set') return this.fail('assertion inside [...]', at)
    return node.set.length === 2 && node.set[0] === node.set[1] ? node.set[0]! : node.set
  }

  private parseEscape(): RegexNode {
    const at = this.i
    const e = this.src[this.i + 1]
    if (e === undefined) this.fail('"\\" at end of pattern', at)
    this.i += 2
    const set = (s: CodeUnitSet): RegexNode => ({ kind: 'set', set: s })
    switch (e) {
      case 'b': return { kind: 'assert', assertion: 'word-boundary' }
      case 'B': return { kind: 'assert', assertion: 'not-word-boundary' }
      case 'd': return set(DIGIT)
      case 'D': return set(negateSet(DIGIT))
      case 'w': return set(WORD)
      case 'W': return set(negateSet(WORD))
      case 's': return set(SPACE)
      case 'S': return set(negateSet(SPACE))
      case 't': return set(single(0x09))
      case 'n': return set(single(0x0a))
      case 'v': return set(single(0x0b))
      case 'f': return set(single(0x0c))
      case 'r': return set(single(0x0d))
      case 'x': return set(single(this.readHex(2, at)))
      case 'u':
        if (this.src[this.i] === '{') this.fail('\\u{…} needs the u flag; write \\uXXXX', at)
        return set(single(this.readHex(4, at)))
      case '0':
        if (/\d/.test(this.src[this.i] ?? '')) this.fail('octal escapes are not supported', at)
        return set(single(0))
      case 'k':
        return this.fail('backreferences are not supported (they are not linear-time)', at)
      case 'p':
      case 'P':
        return this.fail('Unicode property escapes \\p{…} are not supported', at)
      case 'c':
        return this.fail('control escapes \\cX are not supported; write \\xHH', at)
    }
    if (/[1-9]/.test(e)) this.fail('backreferences are not supported (they are not linear-time)', at)
    if (/[A-Za-z0-9_]/.test(e)) this.fail(`unknown escape "\\${e}"`, at)
    return set(single(e.charCodeAt(0)))
  }

  private readHex(digits: number, at: number): number {
    const hex = this.src.slice(this.i, this.i + digits)
    if (hex.length !== digits || !/^[0-9A-Fa-f]+$/.test(hex)) this.fail(`invalid hexadecimal escape`, at)
    this.i += digits
    return parseInt(hex, 16)
  }
}

/** Shortest number of code units any match needs (assertions are free). */
export function minLength(node: RegexNode): number {
  switch (node.kind) {
    case 'set': return 1
    case 'assert': return 0
    case 'seq': return node.items.reduce((n, item) => n + minLength(item), 0)
    case 'alt': return Math.min(...node.items.map(minLength))
    case 'repeat': return node.min * minLength(node.item)
  }
}
