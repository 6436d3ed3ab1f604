import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileMasker } from '../../src/masking/index.js'
import { detectors } from '../../src/masking/detectors/index.js'
import { compilePatternSet } from '../../src/masking/pattern-set.js'
import { findMatches, TextScanner } from '../../src/masking/scanner.js'
import { TICKET, WORDS, defaultMasker, splitAt } from './helpers.js'

const masker = defaultMasker()
const custom = (...patterns: Array<{ name: string; regex: string; maxLength: number }>) =>
  compileMasker([{ patterns }], { thinking: 'keep' })

describe('maskText semantics', () => {
  it('replaces with [REDACTED:<name>] and counts one hit per replacement', () => {
    expect(masker.maskText('a@example.com, b@example.org and OPS-1')).toEqual({
      text: '[REDACTED:email], [REDACTED:email] and [REDACTED:ticket]',
      hits: { email: 2, ticket: 1 },
    })
  })

  it('merges overlapping matches into one region, so no tail of a secret stays in clear', () => {
    // The international phone shape would take "+1 415 555 0132 (555"; the NANP match overlaps it.
    expect(masker.maskText('call +1 415 555 0132 (555) 123-4567 now')).toEqual({ text: 'call [REDACTED:phone] now', hits: { phone: 1 } })
    expect(custom({ name: 'ab', regex: 'ab+', maxLength: 10 }, { name: 'bc', regex: 'b+c', maxLength: 10 }).maskText('xabbbcx').text).toBe('x[REDACTED:ab]x')
  })

  it('labels a region by its leftmost, then longest, then first-listed match', () => {
    const m = custom({ name: 'short', regex: 'ab', maxLength: 2 }, { name: 'long', regex: 'abc', maxLength: 3 }, { name: 'same', regex: 'a[b]c', maxLength: 3 })
    expect(m.maskText('abc').text).toBe('[REDACTED:long]')
    expect(m.maskText('abd').text).toBe('[REDACTED:short]d')
  })

  it('keeps matches within maxLength: a longer run is not a match', () => {
    const m = custom({ name: 'id', regex: '\\bID[0-9]+\\b', maxLength: 6 })
    expect(m.maskText('ID1234 ID12345').text).toBe('[REDACTED:id] ID12345')
  })

  it('anchors ^ and $ at the ends of each text', () => {
    const m = custom({ name: 'edge', regex: '^x|y$', maxLength: 1 })
    expect(m.maskText('xaxy y').text).toBe('[REDACTED:edge]axy [REDACTED:edge]')
  })

  it('matches code units: text around astral characters is kept intact', () => {
    expect(masker.maskText('😀alice@example.com😀').text).toBe('😀[REDACTED:email]😀')
    expect(masker.maskText('').text).toBe('')
    expect(compileMasker([], { thinking: 'keep' }).maskText('bob@example.com')).toEqual({ text: 'bob@example.com', hits: {} })
  })

  it('stream chunks never end inside a surrogate pair', () => {
    const { set } = compilePatternSet([{ name: 'dot', regex: 'q.{3}', maxLength: 4 }])
    fc.assert(
      fc.property(fc.array(fc.constantFrom('😀', 'q', 'a', ' ', '🎉x'), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const text = parts.join('')
        const scanner = new TextScanner(set!, {})
        const out = splitAt(text, cuts).map((chunk) => scanner.push(chunk))
        out.push(scanner.end())
        for (const chunk of out.slice(0, -1)) {
          if (chunk.length > 0) expect(/[\uD800-\uDBFF]$/.test(chunk)).toBe(false)
        }
        expect(out.join('')).toBe(custom({ name: 'dot', regex: 'q.{3}', maxLength: 4 }).maskText(text).text)
      }),
    )
  })
})

describe('lazy DFA cache', () => {
  it('gives identical results when the cache is dropped constantly', () => {
    const specs = [...Object.values(detectors), TICKET]
    const big = compilePatternSet(specs).set!
    const tiny = compilePatternSet(specs, { maxStates: 4 }).set!
    const doc = fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom('alice@example.com', '4111 1111 1111 1111', 'OPS-12', '10.0.0.1', 'AKIAIOSFODNN7EXAMPLE')), { maxLength: 20 })
    fc.assert(fc.property(doc, (parts) => {
      const text = parts.join(' ')
      expect(findMatches(tiny, text)).toEqual(findMatches(big, text))
    }), { numRuns: 200 })
    expect(tiny.automaton.cachedStates).toBeLessThanOrEqual(4)
  })
})
