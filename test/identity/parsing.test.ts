/**
 * Steps 1–6 in isolation, with property tests (fast-check): the strict JSON parser agrees with
 * JSON.parse on every duplicate-free document and finds duplicates at any depth in linear time;
 * canonical base64url accepts exactly one encoding per byte string.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { splitCompact } from '../../src/identity/compact.js'
import { checkHeader } from '../../src/identity/header.js'
import { parseStrictJsonObject, type JsonObject } from '../../src/identity/strict-json.js'
import { TokenError, type TokenRejectReason } from '../../src/identity/index.js'

const enc = (text: string) => new TextEncoder().encode(text)

function reasonOf(fn: () => unknown): TokenRejectReason | 'ok' {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (TokenError.is(err)) return err.reason
    throw err
  }
}

/** Plain-object deep copy so results can be compared with JSON.parse output. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown

describe('strict JSON (step 4)', () => {
  it('agrees with JSON.parse on every duplicate-free object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (object) => {
        const text = JSON.stringify(object)
        expect(plain(parseStrictJsonObject(enc(text), 'payload'))).toEqual(JSON.parse(text))
      }),
      { numRuns: 300 },
    )
  })

  it('finds a duplicate member at any depth, however the name is escaped', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 20 }), (name, depth) => {
        const escaped = [...name].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')
        const inner = `{${JSON.stringify(name)}:1,"${escaped}":2}`
        const text = `{"a":${'['.repeat(depth)}${inner}${']'.repeat(depth)}}`
        expect(reasonOf(() => parseStrictJsonObject(enc(text), 'payload'))).toBe('duplicate_member')
      }),
    )
  })

  it('builds null-prototype objects: __proto__ is data', () => {
    const parsed = parseStrictJsonObject(enc('{"__proto__":{"admin":true},"a":{"__proto__":1}}'), 'payload')
    expect(Object.getPrototypeOf(parsed)).toBeNull()
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a'])
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it.each([
    ['not an object', '[1]'],
    ['trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['leading zero', '{"a":01}'],
    ['NaN', '{"a":NaN}'],
    ['control character', '{"a":"\u0001"}'],
    ['bad escape', '{"a":"\\x41"}'],
    ['short unicode escape', '{"a":"\\u12"}'],
    ['unterminated', '{"a":"b'],
    ['too deep', `{"a":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`],
  ])('rejects %s as malformed', (_name, text) => {
    expect(reasonOf(() => parseStrictJsonObject(enc(text), 'payload'))).toBe('malformed')
  })

  it('rejects invalid UTF-8 and a BOM', () => {
    expect(reasonOf(() => parseStrictJsonObject(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d), 'payload'))).toBe('malformed')
    expect(reasonOf(() => parseStrictJsonObject(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d), 'payload'))).toBe('malformed')
  })

  // A generous bound that still separates linear (well under a second) from a quadratic duplicate
  // scan (2·10^10 comparisons); the machine may be shared, so no tight timing.
  it('is linear: 200 000 members parse quickly and a late duplicate is found', () => {
    const members = Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`)
    const started = performance.now()
    expect(Object.keys(parseStrictJsonObject(enc(`{${members.join(',')}}`), 'payload')).length).toBe(200_000)
    expect(reasonOf(() => parseStrictJsonObject(enc(`{${members.join(',')},"k0":1}`), 'payload'))).toBe('duplicate_member')
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})

describe('canonical base64url and shape (steps 1–3)', () => {
  const segment = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
  const token = (h: Uint8Array, p: Uint8Array, s: Uint8Array) => `${segment(h)}.${segment(p)}.${segment(s)}`
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 64 })

  it('accepts the canonical encoding of any bytes and returns them', () => {
    fc.assert(
      fc.property(bytes, bytes, bytes, (h, p, s) => {
        const parts = splitCompact(token(h, p, s), 8192)
        expect(Buffer.from(parts.headerBytes)).toEqual(Buffer.from(h))
        expect(Buffer.from(parts.payloadBytes)).toEqual(Buffer.from(p))
      }),
    )
  })

  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  /** Other string forms of the same bytes that lenient decoders (atob, Buffer) accept. */
  const variants = (canonical: string, raw: Uint8Array): string[] => {
    const forms = [Buffer.from(raw).toString('base64'), `${canonical.slice(0, 1)} ${canonical.slice(1)}`, `${canonical}\n`]
    forms.push(canonical.replaceAll('-', '+').replaceAll('_', '/'))
    if (canonical.length % 4 >= 2) {
      // The lowest bit of the last character is a spare bit (RFC 4648 §3.5) when length % 4 is 2 or 3.
      forms.push(canonical.slice(0, -1) + ALPHABET.charAt(ALPHABET.indexOf(canonical.at(-1) ?? 'A') ^ 1))
    }
    return forms.filter((form) => form !== canonical)
  }

  it('rejects every other string form of the same bytes', () => {
    fc.assert(
      fc.property(bytes, (raw) => {
        for (const variant of variants(segment(raw), raw)) {
          expect(reasonOf(() => splitCompact(`eyJ9.eyJ9.${variant}`, 8192))).toBe('malformed')
        }
      }),
    )
  })

  it.each<[string, string, number, TokenRejectReason]>([
    ['empty', '', 8192, 'malformed'],
    ['two segments', 'eyJ9.eyJ9', 8192, 'malformed'],
    ['five segments (JWE)', 'eyJ9.eyJ9.eyJ9.eyJ9.eyJ9', 8192, 'malformed'],
    ['empty payload', 'eyJ9..eyJ9', 8192, 'malformed'],
    ['JSON serialization', '{"payload":"eyJ9"}', 8192, 'malformed'],
    ['over the limit', `eyJ9.${'A'.repeat(9000)}.eyJ9`, 8192, 'too_large'],
    ['header over 1 KiB', `${'A'.repeat(1028)}.eyJ9.eyJ9`, 8192, 'too_large'],
    ['length 1 mod 4', 'eyJ9A.eyJ9.eyJ9', 8192, 'malformed'],
  ])('%s', (_name, input, max, reason) => {
    expect(reasonOf(() => splitCompact(input, max))).toBe(reason)
  })
})

describe('header allow-list (steps 5–6)', () => {
  const header = (members: JsonObject) => Object.assign(Object.create(null) as JsonObject, members)

  it('accepts the real GitHub Actions header, x5t included', () => {
    const gh = header({ alg: 'RS256', kid: '38826b17-6a30-5f9b-b169-8beb8202f723', typ: 'JWT', x5t: 'ykNaY4qM_ta4k2TgZOCEYLkcYlA' })
    expect(checkHeader(gh)).toEqual({ alg: 'RS256', kid: '38826b17-6a30-5f9b-b169-8beb8202f723', typ: 'JWT' })
  })

  it('accepts base64url thumbprint kids (oidc-provider, Entra ID contain _)', () => {
    expect(checkHeader(header({ alg: 'ES256', kid: 'KYYiHOOD8Hknggx8sS-PlmffcQnnhy6sFQP1p26H_50', typ: 'at+jwt' })).kid).toContain('_')
  })

  it.each(['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64', 'zip', 'cty', 'enc', 'p2c', 'nonce', '__proto__'])('rejects %s', (name) => {
    expect(reasonOf(() => checkHeader(header({ alg: 'RS256', kid: 'k1', [name]: 'x' })))).toBe('header_param')
  })

  it.each(['', 'a b', "x'", 'k\n', 'ä', 'a'.repeat(129)])('rejects kid %j', (kid) => {
    expect(reasonOf(() => checkHeader(header({ alg: 'RS256', kid })))).toBe('header_param')
  })
})
