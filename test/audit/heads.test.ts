import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { headType, openHead, parseHeadsFile, parseTrustedKeys, signHead, signingKeyFromPem, type HeadPayload } from '../../src/audit/heads/index.js'

/** Compact JWS of chain heads and the files verify reads them from (issue #16). */
const pair = (type: 'ed25519' | 'ec') =>
  generateKeyPairSync(type as 'ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
const ed = pair('ed25519')
const ec = pair('ec')
const payload: HeadPayload = { type: headType, v: 1, position: 42, hash: 'ab'.repeat(32), time: '2026-12-06T12:00:00.000Z', writer: 'w1' }
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('head JWS', () => {
  for (const [name, keys] of [['EdDSA', ed], ['ES256', ec]] as const) {
    it(`${name}: signs and opens; the kid is the key's thumbprint, the same from PEM and JWKS`, () => {
      const key = signingKeyFromPem(keys.privateKey)
      const jws = signHead(key, payload)
      const trusted = parseTrustedKeys(keys.publicKey)
      expect(openHead(jws, trusted)).toEqual({ ok: true, kid: key.kid, payload })
      expect([...parseTrustedKeys(JSON.stringify({ keys: [key.jwk] })).keys()]).toEqual([key.kid])
      expect(JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString())).toEqual({ alg: name, kid: key.kid, typ: 'skillgate-audit-head+jws' })
    })
  }

  it('refuses an edited payload, a header naming another algorithm, an unknown key and a malformed payload', () => {
    const key = signingKeyFromPem(ed.privateKey)
    const trusted = parseTrustedKeys(ed.publicKey)
    const [h, , s] = signHead(key, payload).split('.') as [string, string, string]
    expect(openHead(`${h}.${b64({ ...payload, position: 41 })}.${s}`, trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not verify/) })
    expect(openHead(`${b64({ alg: 'ES256', kid: key.kid, typ: 'skillgate-audit-head+jws' })}.${b64(payload)}.${s}`, trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match key/) })
    expect(openHead(signHead(key, payload), parseTrustedKeys(ec.publicKey))).toMatchObject({ ok: false, reason: expect.stringMatching(/not among the trusted keys/) })
    const bad = signHead(key, { ...payload, hash: 'not-a-hash' } as HeadPayload)
    expect(openHead(bad, trusted)).toMatchObject({ ok: false, reason: 'payload hash is not a SHA-256 hex digest' })
    expect(openHead('a.b', trusted)).toMatchObject({ ok: false, reason: 'not a compact JWS' })
  })

  it('refuses keys that are not Ed25519 or P-256', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    expect(() => signingKeyFromPem(p384.privateKey)).toThrow(/Ed25519 or P-256, not ec secp384r1/)
    expect(() => signingKeyFromPem('not a key')).toThrow(/not a PEM private key/)
    expect(() => parseTrustedKeys('nothing here')).toThrow(/no audit head keys/)
  })
})

describe('heads files', () => {
  it('reads the endpoint body and a sink JSONL with records in between; refuses a line that is not JSON', () => {
    expect(parseHeadsFile('{"heads":[{"jws":"a.b.c"}]}', 'h.json')).toEqual([{ source: 'h.json heads[0]', jws: 'a.b.c' }])
    const jsonl = '{"v":1,"id":"r1"}\n{"type":"audit_head","jws":"x.y.z"}\n\n{"v":1,"id":"r2"}\n'
    expect(parseHeadsFile(jsonl, 'audit.jsonl')).toEqual([{ source: 'audit.jsonl line 2', jws: 'x.y.z' }])
    expect(() => parseHeadsFile('{"v":1}\n{"type":"audit_head","jws":"x.y.z"\n', 'cut.jsonl')).toThrow('cut.jsonl line 2 is not JSON')
    expect(() => parseHeadsFile('{"heads":[{"nojws":1}]}', 'h.json')).toThrow('h.json: heads[0] has no jws')
    // A file that yields no head must not pass as "checked": an empty file, an empty list, records only, another wrapping.
    for (const text of ['', '{"heads":[]}', '{"v":1,"id":"x"}\n', '{"data":{"heads":[{"jws":"a.b.c"}]}}', '[{"type":"audit_head","jws":"a.b.c"}]']) {
      expect(() => parseHeadsFile(text, 'f'), text).toThrow(/^f holds no signed head/)
    }
    // RFC 3161 tokens come along with their head; a token that is not a string is an error, not skipped.
    expect(parseHeadsFile('{"heads":[{"jws":"a.b.c","timestamp":"dG9r"},{"jws":"d.e.f"}]}', 'h.json')).toEqual([
      { source: 'h.json heads[0]', jws: 'a.b.c', timestamp: 'dG9r' },
      { source: 'h.json heads[1]', jws: 'd.e.f' },
    ])
    expect(parseHeadsFile('{"type":"audit_head","jws":"x.y.z","timestamp":"dG9r"}\n', 's.jsonl')).toEqual([{ source: 's.jsonl line 1', jws: 'x.y.z', timestamp: 'dG9r' }])
    expect(() => parseHeadsFile('{"type":"audit_head","jws":"x.y.z","timestamp":7}\n', 's.jsonl')).toThrow('s.jsonl line 1: timestamp is not a base64 string')
  })
})
