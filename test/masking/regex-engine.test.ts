import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileMasker, MaskingConfigError } from '../../src/masking/index.js'
import { compilePatternSet } from '../../src/masking/pattern-set.js'
import { parseRegex, RegexSyntaxError } from '../../src/masking/regex/parse.js'
import { findMatches } from '../../src/masking/scanner.js'

const single = (regex: string, maxLength = 1000) =>
  compileMasker([{ patterns: [{ name: 'p', regex, maxLength }] }], { thinking: 'keep' })

describe('regex subset: refused constructs, with the reason', () => {
  const refused: Array<[string, RegExp]> = [
    ['(a)\\1', /backreferences/],
    ['(?<n>a)\\k<n>', /backreferences/],
    ['a(?=b)', /lookahead and lookbehind/],
    ['a(?!b)', /lookahead and lookbehind/],
    ['(?<=a)b', /lookahead and lookbehind/],
    ['(?<!a)b', /lookahead and lookbehind/],
    ['a+?', /lazy quantifiers/],
    ['a{1,3}?', /lazy quantifiers/],
    ['a++', /nothing to repeat/],
    ['*a', /nothing to repeat/],
    ['\\b+', /assertion cannot be quantified/],
    ['(?i)abc', /inline flags/],
    ['\\p{L}', /property escapes/],
    ['a{3,2}', /out of order/],
    ['a{1001}', /above 1000/],
    ['(ab', /unterminated group/],
    ['ab)', /unmatched "\)"/],
    ['[ab', /unterminated character class/],
    ['[z-a]', /range out of order/],
    ['[\\d-z]', /invalid range/],
    ['\\q', /unknown escape/],
    ['\\', /at end of pattern/],
    ['\\u{1F600}', /needs the u flag/],
    ['[😀]', /Basic Multilingual Plane/],
  ]
  it.each(refused)('%s', (source, reason) => {
    expect(() => parseRegex(source)).toThrow(RegexSyntaxError)
    expect(() => parseRegex(source)).toThrow(reason)
  })

  it('accepts named groups, classes, escapes and counted repetition', () => {
    for (const source of ['(?<id>OPS|SEC)-\\d{1,7}', '(?P<x>a)', '[^\\s"\'<>]+', '\\x41\\u0042[\\b]', 'a{2,}b{0,3}', 'x{', '[]a|b', '[^]']) {
      expect(() => parseRegex(source), source).not.toThrow()
    }
  })
})

/** Longest match of `source` starting exactly at `start`, by asking JavaScript's RegExp. */
function jsLongestAt(source: string, text: string, start: number): number | undefined {
  for (let end = text.length; end > start; end--) {
    const exact = new RegExp(`(?:${source})(?=[\\s\\S]{${text.length - end}}$)`, 'y')
    exact.lastIndex = start
    if (exact.test(text)) return end
  }
  return undefined
}

/** The regions the engine must replace: the union of the longest match at every start (brute force). */
function jsRegions(source: string, text: string): Array<[number, number]> {
  const regions: Array<[number, number]> = []
  for (let start = 0; start < text.length; start++) {
    const end = jsLongestAt(source, text, start)
    if (end === undefined) continue
    const last = regions[regions.length - 1]
    if (last && start < last[1]) last[1] = Math.max(last[1], end)
    else regions.push([start, end])
  }
  return regions
}

function engineRegions(source: string, text: string): Array<[number, number]> {
  const { set } = compilePatternSet([{ name: 'p', regex: source, maxLength: 1000 }])
  return findMatches(set!, text).map((m) => [m.start, m.end])
}

describe('differential against JavaScript RegExp (union of the longest match at every start)', () => {
  const patterns = [
    'a+b', '(a|ab)(c|bcd)', 'a*b+', '\\bab?\\b', '[a-c]{2,3}', 'x(a|b)*y', '(ab|a)(bc|c)?', '^a+', 'b+$',
    '\\Ba', 'a\\B', '(a+)+b', '[^a ]+', '.b.', '(?:a|b)c{0,2}\\d', 'a{2}|b{1,}', '\\d+\\.\\d+', '[\\w-]+@x',
    '(x+x+)+y', '\\s+\\S', '(?:^|\\b)c',
  ]
  const alphabet = fc.constantFrom('a', 'b', 'c', 'x', 'y', '1', '.', '@', ' ', '-', '\n')
  const texts = fc.array(alphabet, { maxLength: 24 }).map((chars) => chars.join(''))

  it.each(patterns)('%s', (source) => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(engineRegions(source, text)).toEqual(jsRegions(source, text))
      }),
      { numRuns: 300 },
    )
  })
})

describe('compile-time checks', () => {
  it('refuses patterns that match the empty string or cannot fit maxLength', () => {
    expect(() => single('a*')).toThrow(/matches the empty string/)
    expect(() => single('\\b')).toThrow(/matches the empty string/)
    expect(() => single('abcdef', 3)).toThrow(/can never match within maxLength 3/)
  })

  it('refuses patterns whose expansion is too large', () => {
    expect(() => single('(a{0,1000}){1,1000}b')).toThrow(/pattern too large/)
  })

  it('reports every bad pattern at once, with its path', () => {
    let error: unknown
    try {
      compileMasker(
        [
          { name: 'one', detectors: ['email', 'nope'], patterns: [{ name: 'bad', regex: '(a)\\1', maxLength: 5 }] },
          { name: 'two', patterns: [{ name: 'worse', regex: 'a(?=b)', maxLength: 5 }, { name: 'ok', regex: 'ok', maxLength: 2 }], fields: ['input.x'] },
        ],
        { thinking: 'keep', requestDetectors: [['aws-access-key', 'unknown-thing']] },
      )
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(MaskingConfigError)
    const issues = (error as MaskingConfigError).issues
    expect(issues.map((i) => i.path)).toEqual([
      'profiles.one.detectors[1]', 'profiles.two.fields[0]', 'profiles.one.patterns[0]', 'profiles.two.patterns[0]', 'requests[0]',
    ])
    expect((error as Error).message).toMatchInlineSnapshot(`
      "invalid masking configuration:
        ✖ unknown detector "nope" (known: private-key, anthropic-key, aws-access-key, github-token, jwt, credit-card, iban, email, phone, ipv4)
          → at profiles.one.detectors[1]
        ✖ field path "input.x" must start with content[…] and name a field inside a block (e.g. content[*].input.password)
          → at profiles.two.fields[0]
        ✖ bad: backreferences are not supported (they are not linear-time) (at offset 3)
          → at profiles.one.patterns[0]
        ✖ worse: lookahead and lookbehind are not supported (they are not linear-time); use \\b or a wider match (at offset 1)
          → at profiles.two.patterns[0]
        ✖ unknown detector "unknown-thing"
          → at requests[0]"
    `)
  })

  it('refuses reserved, malformed and conflicting pattern names', () => {
    const spec = (name: string, regex = 'x') => ({ name, regex, maxLength: 4 })
    expect(() => compileMasker([{ patterns: [spec('email')] }], { thinking: 'keep' })).toThrow(/reserved/)
    expect(() => compileMasker([{ patterns: [spec('field')] }], { thinking: 'keep' })).toThrow(/reserved/)
    expect(() => compileMasker([{ patterns: [spec('has space')] }], { thinking: 'keep' })).toThrow(/must be a letter/)
    expect(() => compileMasker([{ patterns: [spec('t', 'a')] }, { patterns: [spec('t', 'b')] }], { thinking: 'keep' })).toThrow(/defined twice/)
    expect(() => compileMasker([{ patterns: [spec('t', 'a')] }, { patterns: [spec('t', 'a')] }], { thinking: 'keep' })).not.toThrow()
  })
})
