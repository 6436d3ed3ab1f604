/** RFC 8693 `act` chains (issue #13 item 6) and the bounded form of source values (item 3). */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatActChain, readActChain, type ActClaim } from '../../src/identity/act-chain.js'
import { MAX_SOURCE_VALUE_CHARS, sourceValue } from '../../src/identity/source-value.js'

const actor = fc.record({ sub: fc.string({ minLength: 1, maxLength: 80 }), iss: fc.option(fc.string({ maxLength: 80 }), { nil: undefined }) })
const nest = (levels: readonly { sub: string; iss?: string | undefined }[]): Record<string, unknown> | undefined =>
  levels.reduceRight<Record<string, unknown> | undefined>((inner, level) => ({ ...level, ...(inner ? { act: inner } : {}) }), undefined)
const depth = (chain: ActClaim | undefined): number => (chain === undefined ? 0 : 1 + depth(chain.act))

describe('readActChain', () => {
  it('keeps every level up to the limit, in order, and refuses deeper chains', () => {
    fc.assert(
      fc.property(fc.array(actor, { minLength: 1, maxLength: 7 }), (levels) => {
        const chain = readActChain(nest(levels), 4)
        if (levels.length > 4) {
          expect(chain).toBe('invalid')
          return
        }
        if (chain === 'invalid' || chain === undefined) throw new Error('expected a chain')
        expect(depth(chain)).toBe(levels.length)
        expect(formatActChain(chain).split(' > ').length).toBeGreaterThanOrEqual(levels.length)
        let level: ActClaim | undefined = chain
        for (const expected of levels) {
          expect(level?.sub).toBe(sourceValue(expected.sub, 64))
          level = level?.act
        }
      }),
      { numRuns: 300, seed: 13 },
    )
  })

  it('drops other claims of an actor and refuses non-objects and non-string subjects', () => {
    expect(readActChain({ sub: 'bot', role: 'admin', act: { sub: 'alice', may_act: { sub: 'x' } } }, 4)).toEqual({ sub: 'bot', act: { sub: 'alice' } })
    expect(readActChain(undefined, 4)).toBeUndefined()
    for (const bad of [null, 'bot', ['bot'], { sub: '' }, { sub: 1 }, { sub: 'a', iss: 2 }, { sub: 'a', act: null }]) expect(readActChain(bad, 4)).toBe('invalid')
  })
})

describe('sourceValue', () => {
  it('keeps short values and hashes long ones into a fixed, distinct form', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), fc.string({ maxLength: 600 }), (a, b) => {
        const bounded = sourceValue(a)
        expect(bounded.length).toBeLessThanOrEqual(MAX_SOURCE_VALUE_CHARS)
        if (a.length <= MAX_SOURCE_VALUE_CHARS) expect(bounded).toBe(a)
        else expect(bounded).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/)
        if (a !== b && a.length > MAX_SOURCE_VALUE_CHARS && b.length > MAX_SOURCE_VALUE_CHARS) expect(sourceValue(b)).not.toBe(bounded)
      }),
      { numRuns: 300, seed: 13 },
    )
  })
})
