import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/audit/canonical-json.js'
import { appendLinks, genesisHash, linkHash, type ChainLink, type RecordIndexRow } from '../../src/audit/chain.js'
import { ChainVerifier } from '../../src/audit/chain-verifier.js'

describe('canonicalJson', () => {
  it('is independent of key order and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)))
        expect(canonicalJson(JSON.parse(text))).toBe(text)
      }),
    )
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: undefined } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"z":1}}')
  })

  it('refuses values that are not JSON', () => {
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/plain objects/)
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/)
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/)
  })
})

/** A chain of `n` records, each with an open and a close link, and matching index rows. */
function chainOf(n: number): { links: ChainLink[]; rows: Map<string, RecordIndexRow> } {
  const pending = []
  const rows = new Map<string, RecordIndexRow>()
  for (let i = 0; i < n; i++) {
    const id = `R${String(i).padStart(25, '0')}`
    const start = '2030-01-01T00:00:00.000Z'
    pending.push({ kind: 'open' as const, recordId: id, at: i, body: canonicalJson({ id, start, principal: 'p', issuer: 'i', rule: 'r', decision: 'allow', skills: ['s'] }) })
    pending.push({ kind: 'close' as const, recordId: id, at: i + 1, body: canonicalJson({ outcome: 'completed', text: `answer ${i}` }) })
    rows.set(id, { id, startedAt: Date.parse(start), endedAt: i + 1, principal: 'p', issuer: 'i', rule: 'r', decision: 'allow', outcome: 'completed', skills: ['s'], seqOpen: 2 * i + 1, seqClose: 2 * i + 2 })
  }
  return { links: appendLinks({ seq: 0, hash: genesisHash }, pending).links, rows }
}

function verify(links: readonly ChainLink[], rows: Map<string, RecordIndexRow>, head: { seq: number; hash: string }) {
  const verifier = new ChainVerifier({ seq: 0, hash: genesisHash, checkpoint: false })
  for (const link of [...links].sort((a, b) => a.seq - b.seq)) verifier.check(link, rows.get(link.recordId))
  return verifier.report(head)
}

describe('chain verifier', () => {
  it('accepts an untouched chain', () => {
    const { links, rows } = chainOf(5)
    const last = links.at(-1) as ChainLink
    expect(verify(links, rows, { seq: last.seq, hash: last.hash })).toMatchObject({ ok: true, links: 10, records: 5 })
  })

  it('detects any single edit, deletion, insertion or swap and names its position', () => {
    type Mutation = { kind: 'edit' | 'delete' | 'swap' | 'insert'; at: number }
    const mutation = fc.record({ kind: fc.constantFrom<Mutation['kind']>('edit', 'delete', 'swap', 'insert'), at: fc.nat() })
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), mutation, (n, m) => {
        const { links, rows } = chainOf(n)
        const last = links.at(-1) as ChainLink
        const head = { seq: last.seq, hash: last.hash }
        const i = m.at % (links.length - 1)
        const target = links[i] as ChainLink
        let mutated: ChainLink[]
        if (m.kind === 'edit') mutated = links.map((l, k) => (k === i ? { ...l, body: l.body.replace('answer', 'ANSWER').replace('"p"', '"q"') } : l))
        else if (m.kind === 'delete') mutated = links.filter((_, k) => k !== i)
        else if (m.kind === 'swap') {
          const next = links[i + 1] as ChainLink
          mutated = links.map((l, k) => (k === i ? { ...next, seq: l.seq } : k === i + 1 ? { ...target, seq: l.seq } : l))
        } else {
          // A forged link at position i with a hash computed over its own (wrong) predecessor.
          const forged = { seq: target.seq, kind: 'close' as const, recordId: target.recordId, at: 0, body: '{}', prevHash: genesisHash }
          mutated = links.map((l, k) => (k === i ? { ...forged, hash: linkHash(forged) } : l))
        }
        const report = verify(mutated, rows, head)
        expect(report.ok).toBe(false)
        expect(report.problems.some((p) => p.seq !== null && p.seq >= target.seq && p.seq <= target.seq + 1)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

describe('canonicalJson against a reference (the first, allocation-heavy implementation)', () => {
  // Not JSON.stringify with a sorting replacer: integer-like keys ("0") always come first in a JS object.
  const reference = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value)
    if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`
  }
  it('writes exactly the reference text for random JSON values (keys in any order, integer-like keys too)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        expect(canonicalJson(value)).toBe(reference(value))
      }),
      { numRuns: 500 },
    )
    expect(canonicalJson({ '0': 0, '': null, b: 1, a: 2 })).toBe('{"":null,"0":0,"a":2,"b":1}')
  })

  // The fast path re-orders objects and hands them to JSON.stringify: these keys are where that could go wrong.
  const trickyKey = fc.constantFrom('__proto__', 'constructor', 'toJSON', '0', '1', '10', '9', '01', '-1', '4294967295', '4294967294', '', 'a', 'B', 'b', 'é', '\ud83d\ude00', 'z')
  const tricky = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
      fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 4 }),
      fc.array(fc.tuple(trickyKey, fc.oneof(tie('value'), fc.constant(undefined))), { maxLength: 6 }).map((entries) => {
        const object: Record<string, unknown> = {}
        for (const [key, member] of entries) Object.defineProperty(object, key, { value: member, enumerable: true, writable: true, configurable: true })
        return object
      }),
    ),
  })).value
  it('matches the reference for objects with __proto__, array-index and out-of-order keys and undefined members', () => {
    const withoutUndefined = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null')
    fc.assert(
      fc.property(tricky, (value) => {
        expect(canonicalJson(value)).toBe(reference(withoutUndefined(value)))
      }),
      { numRuns: 1000 },
    )
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":[2,{"d":1,"c":2}]}}'))).toBe('{"__proto__":{"x":[2,{"c":2,"d":1}]},"b":1}')
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":{"d":1,"c":2}}'))).toBe('{"__proto__":{"x":1},"a":{"c":2,"d":1}}')
    expect(canonicalJson({ z: { '1': 1, a: 2 }, a: 0 })).toBe('{"a":0,"z":{"1":1,"a":2}}')
  })
})
