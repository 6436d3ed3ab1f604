import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePatternSet, type PatternSet, type PatternSpec } from '../../src/masking/pattern-set.js'
import { detectors } from '../../src/masking/detectors/index.js'
import { TextScanner } from '../../src/masking/scanner.js'
import { PLANTED, TICKET, WORDS } from './helpers.js'

/**
 * The search-DFA prefilter (src/masking/regex/search-dfa.ts) lets the scanner skip the exact runs
 * where no match can end. It must never change a result: not the masked text, not the regions,
 * not what each chunk of a stream releases (the exact hold-back). Each case runs the same input
 * with the prefilter on and off (the off scanner runs every code unit through the exact runs, the
 * engine as it was before the prefilter) and compares everything observable.
 */
const ALL: PatternSpec[] = [...Object.values(detectors), TICKET]

interface Observed {
  readonly released: string[]
  readonly regions: Array<[number, number, number]>
  readonly hits: Record<string, number>
}

function observe(set: PatternSet, chunks: readonly string[], prefilter: boolean): Observed {
  const regions: Array<[number, number, number]> = []
  const hits: Record<string, number> = {}
  const scanner = new TextScanner(set, hits, (start, end, pattern) => regions.push([start, end, pattern]), prefilter)
  const released = chunks.map((chunk) => scanner.push(chunk))
  released.push(scanner.end())
  return { released, regions, hits }
}

function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
  const chunks: string[] = []
  let from = 0
  for (const p of points) {
    chunks.push(text.slice(from, p))
    from = p
  }
  chunks.push(text.slice(from))
  return chunks
}

const secrets = PLANTED.map((p) => p.value)
/** Multi-byte and astral text right next to secrets: surrogate pairs, accents, CJK, RTL. */
const unicode = ['😀', '🎉x', 'été', '日本語', 'שלום', '\u00a0', '\u2028', 'é@é', '😀alice@example.com😀']
const documents = fc
  .array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(...secrets), fc.constantFrom(...unicode)), { maxLength: 24 })
  .chain((parts) => fc.array(fc.constantFrom(' ', '', '\n', ', ', '-', '.', '@', '/'), { minLength: parts.length, maxLength: parts.length })
    .map((seps) => parts.map((part, i) => part + seps[i]!).join('')))


/** Custom patterns with `\b`, `^`, `$` and a validator, and short texts over their alphabet. */
const customSpecs: PatternSpec[] = [
  { name: 'start', regex: '^[a-c]+x', maxLength: 6 },
  { name: 'end', regex: 'y[a-c]*$', maxLength: 5 },
  { name: 'edge', regex: '\\bab\\B', maxLength: 4 },
  { name: 'even', regex: '[0-9]{2,8}', maxLength: 8, validate: (m) => Number(m) % 2 === 0 },
  { name: 'long', regex: '[a-c]+@', maxLength: 5 },
]
const customText = fc.array(fc.constantFrom('a', 'b', 'c', 'x', 'y', '1', '2', '@', ' ', '😀'), { maxLength: 30 }).map((c) => c.join(''))

describe('search-DFA prefilter never changes a result', () => {
  const set = compilePatternSet(ALL).set!

  it('maskText: same regions, hits and text on random documents with every detector', () => {
    fc.assert(fc.property(documents, (text) => {
      expect(observe(set, [text], true)).toEqual(observe(set, [text], false))
    }), { numRuns: 400, seed: 20261206 })
  })

  it('streams: every chunk releases exactly what it released without the prefilter', () => {
    fc.assert(fc.property(documents, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
      const chunks = splitAt(text, cuts)
      const on = observe(set, chunks, true)
      expect(on).toEqual(observe(set, chunks, false))
      for (const chunk of on.released.slice(0, -1)) expect(/[\uD800-\uDBFF]$/.test(chunk)).toBe(false)
    }), { numRuns: 400, seed: 20261207 })
  })

  it('every split point of a text with astral characters around each secret', () => {
    const text = secrets.map((s) => `😀${s}🎉 été `).join('日本 ')
    const whole = observe(set, [text], false).released.join('')
    for (let cut = 0; cut <= text.length; cut++) {
      const chunks = [text.slice(0, cut), text.slice(cut)]
      const on = observe(set, chunks, true)
      expect(on.released.join('')).toBe(whole)
      expect(on).toEqual(observe(set, chunks, false))
      if (on.released[0]!.length > 0) expect(/[\uD800-\uDBFF]$/.test(on.released[0]!)).toBe(false)
    }
  })

  it('custom patterns with \\b, ^, $ and validators: same results on random text', () => {
    const custom = compilePatternSet(customSpecs).set!
    fc.assert(fc.property(customText, fc.array(fc.nat(), { maxLength: 6 }), (t, cuts) => {
      expect(observe(custom, splitAt(t, cuts), true)).toEqual(observe(custom, splitAt(t, cuts), false))
    }), { numRuns: 500, seed: 20261208 })
  })
})

describe('search-DFA cache drop', () => {
  it('a tiny cache is dropped constantly, stays bounded and changes nothing', () => {
    const big = compilePatternSet(ALL).set!
    const tiny = compilePatternSet(ALL, { maxStates: 8 }).set!
    fc.assert(fc.property(documents, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
      const chunks = splitAt(text, cuts)
      expect(observe(tiny, chunks, true)).toEqual(observe(big, chunks, false))
      expect(tiny.search.cachedStates).toBeLessThanOrEqual(8 + 2)
    }), { numRuns: 200, seed: 20261209 })
    expect(tiny.search.generation).toBeGreaterThan(0)
  })

  it('scanners sharing a set resume after another one dropped the cache between their chunks', () => {
    const tiny = compilePatternSet(ALL, { maxStates: 8 }).set!
    const big = compilePatternSet(ALL).set!
    const texts = [`mail alice.smith@example.com now ${secrets.join(' ')}`, `${[...secrets].reverse().join(' 😀 ')} and OPS-12`]
    const scanners = texts.map(() => new TextScanner(tiny, {}))
    const outputs = texts.map(() => [] as string[])
    for (let at = 0; at < Math.max(...texts.map((t) => t.length)); at += 3) {
      texts.forEach((text, k) => {
        if (at < text.length) outputs[k]!.push(scanners[k]!.push(text.slice(at, at + 3)))
      })
    }
    texts.forEach((text, k) => {
      outputs[k]!.push(scanners[k]!.end())
      expect(outputs[k]!.join('')).toBe(observe(big, [text], false).released.join(''))
    })
  })
})

/**
 * `cannotMatch` lets maskWithSet and the request walk skip the scanner for a whole string. It must
 * be true only where the exact scanner finds nothing, including matches that end at the end of the
 * text only (`$`, a trailing `\b`), which the search DFA's table does not report.
 */
describe('search-DFA whole-string check (cannotMatch)', () => {
  const set = compilePatternSet(ALL).set!
  const nothingFound = (s: PatternSet, text: string): boolean => observe(s, [text], false).regions.length === 0

  it('is true only where the scanner finds nothing, on random documents', () => {
    let skipped = 0
    fc.assert(fc.property(documents, (text) => {
      // Not "exactly": maxLength and validators (Luhn, mod-97) may drop every candidate it saw.
      if (set.search.cannotMatch(text)) {
        skipped++
        expect(nothingFound(set, text)).toBe(true)
      }
    }), { numRuns: 400, seed: 20261210 })
    expect(skipped).toBeGreaterThan(20)
  })

  it('sees matches that end only at the end of the text', () => {
    for (const text of ['OPS-12', 'see OPS-1234567', 'AKIAIOSFODNN7EXAMPLE', 'mail bob@example.com']) {
      expect(nothingFound(set, text)).toBe(false)
      expect(set.search.cannotMatch(text)).toBe(false)
    }
    expect(set.search.cannotMatch('OPS-12345678')).toBe(nothingFound(set, 'OPS-12345678'))
    expect(set.search.cannotMatch('plain words, nothing else')).toBe(true)
  })

  it('custom patterns with \\b, ^, $ and validators, and a cache dropped constantly', () => {
    const custom = compilePatternSet(customSpecs).set!
    const tiny = compilePatternSet(customSpecs, { maxStates: 8 }).set!
    fc.assert(fc.property(customText, (t) => {
      const found = observe(custom, [t], false).regions.length > 0
      // A validator may refuse every candidate: then the check may say "can match" (it is a superset).
      if (!custom.search.cannotMatch(t)) expect(found || /[0-9]{2}/.test(t)).toBe(true)
      else expect(found).toBe(false)
      expect(tiny.search.cannotMatch(t)).toBe(custom.search.cannotMatch(t))
    }), { numRuns: 500, seed: 20261211 })
  })
})
