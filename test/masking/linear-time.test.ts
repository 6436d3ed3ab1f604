import { describe, expect, it } from 'vitest'
import { compileMasker } from '../../src/masking/index.js'
import { defaultMasker, textDelta, blockStart, blockStop } from './helpers.js'

/**
 * Patterns that backtrack catastrophically in JavaScript (exponential in the input length: 30
 * characters already take seconds) run here in time linear in the input. The bound is a sanity
 * limit for slow CI machines, not a benchmark (see bench/masking.mjs and src/masking/README.md).
 */
const SANITY_MS = 5_000
const KB100 = 100 * 1024

const catastrophic: Array<[string, string]> = [
  ['(a+)+$', `${'a'.repeat(KB100)}!`],
  ['(x+x+)+y', 'x'.repeat(KB100)],
  ['(a|aa)+b', 'a'.repeat(KB100)],
  ['(a|a?)+b', 'a'.repeat(KB100)],
  ['(\\w+\\s?)+$', `${'word '.repeat(KB100 / 5)}!`],
  ['^(([a-z])+.)+[A-Z]([a-z])+$', `${'aaaa.'.repeat(KB100 / 5)}!`],
  ['[ab]*a[ab]{12}c', 'ab'.repeat(KB100 / 2)],
]

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now()
  const value = fn()
  return { value, ms: performance.now() - start }
}

describe('linear time on adversarial input', () => {
  it.each(catastrophic)('custom pattern %s on 100 KB', (regex, input) => {
    for (const maxLength of [64, 4096]) {
      const masker = compileMasker([{ patterns: [{ name: 'p', regex, maxLength }] }], { thinking: 'keep' })
      const { value, ms } = timed(() => masker.maskText(input))
      expect(value.text.length).toBeGreaterThan(0)
      expect(ms).toBeLessThan(SANITY_MS)
    }
  })

  const builtInAttacks: Array<[string, string]> = [
    ['word characters (e-mail local parts)', 'a'.repeat(KB100)],
    ['almost-addresses', 'a.b-c+d@'.repeat(KB100 / 8)],
    ['digit runs (cards, phones, IBAN)', '4 1-1 '.repeat(KB100 / 6)],
    ['JWT-like prefixes', 'eyJhbGci.eyJ'.repeat(KB100 / 12)],
    ['a PEM header followed by an endless body', `-----BEGIN PRIVATE KEY-----\n${'QUJD\n'.repeat(KB100 / 5)}`],
    ['dotted quads', '1.2.3.4.'.repeat(KB100 / 8)],
    ['key prefixes', 'AKIA sk-ant- ghp_ github_pat_ '.repeat(KB100 / 30)],
  ]

  it.each(builtInAttacks)('all built-in detectors on 100 KB of %s', (_name, input) => {
    const masker = defaultMasker()
    const { ms } = timed(() => masker.maskText(input))
    expect(ms).toBeLessThan(SANITY_MS)
  })

  it('streams 100 KB of adversarial text one code unit per delta', () => {
    const masker = defaultMasker()
    const input = 'a.b-c+d@4 1-1 eyJ.eyJ '.repeat(KB100 / 22)
    const { ms } = timed(() => {
      const stream = masker.createStreamMasker()
      stream.push(blockStart(0, { type: 'text', text: '' }))
      for (let i = 0; i < input.length; i++) stream.push(textDelta(0, input[i]!))
      return stream.push(blockStop(0))
    })
    expect(ms).toBeLessThan(SANITY_MS)
  })

  it('grows linearly: 4x the input costs far less than 16x the time', () => {
    const masker = compileMasker([{ patterns: [{ name: 'p', regex: '(x+x+)+y', maxLength: 4096 }] }], { thinking: 'keep' })
    masker.maskText('x'.repeat(10_000)) // warm the DFA cache and the JIT
    const small = timed(() => masker.maskText('x'.repeat(50_000))).ms
    const large = timed(() => masker.maskText('x'.repeat(200_000))).ms
    expect(large).toBeLessThan(Math.max(16 * small, 50))
  })
})
