import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { ContentInfo, SignedData } from 'pkijs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTimestampClient, parseTsaTrust, verifyTimestampToken } from '../../src/audit/timestamp/index.js'
import { describeWithOpenssl, startLocalTsa, type LocalTsa } from './local-tsa.js'

/** RFC 3161 timestamps (issue #16 item 4) against a local TSA played by `openssl ts -reply`. */
const bytes = (text: string) => new Uint8Array(Buffer.from(text))

describe('TSA trust anchors', () => {
  it('refuses text without a certificate and a certificate that does not parse, naming the setting', () => {
    expect(() => parseTsaTrust('hello', 'audit.timestamping.trust')).toThrow('audit.timestamping.trust: no PEM certificate (-----BEGIN CERTIFICATE-----) found')
    expect(() => parseTsaTrust('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'audit.timestamping.trust')).toThrow(/audit\.timestamping\.trust: certificate 1 is not/)
  })
})

describeWithOpenssl('RFC 3161 timestamps', () => {
  let tsa: LocalTsa
  beforeAll(async () => {
    tsa = await startLocalTsa()
  })
  afterAll(async () => {
    await tsa.close()
  })

  it('obtains a token over the data and verifies it against the TSA CA only', async () => {
    const trust = parseTsaTrust(tsa.caPem, 'ca')
    const stamp = createTimestampClient({ url: tsa.url, trust, timeoutMs: 10_000 })
    const before = Date.now()
    const got = await stamp(bytes('head one'))
    expect(Math.abs(got.time.getTime() - before)).toBeLessThan(5_000)
    expect(got.tsa).toBe('CN=skillgate test TSA')
    const token = new Uint8Array(Buffer.from(got.token, 'base64'))
    expect(await verifyTimestampToken(token, bytes('head one'), trust)).toMatchObject({ ok: true, serial: got.serial, time: got.time })
    expect(await verifyTimestampToken(token, bytes('head two'), trust)).toEqual({ ok: false, reason: 'the token is over other data (message imprint does not match)' })
    expect(await verifyTimestampToken(token, bytes('head one'), parseTsaTrust(tsa.otherCaPem, 'other'))).toEqual({ ok: false, reason: expect.stringMatching(/Validation of signer's certificate failed/) })
    // One flipped bit in the signature (the token's last bytes).
    const forged = token.slice()
    forged[forged.length - 3] = (forged[forged.length - 3] ?? 0) ^ 0x01
    expect((await verifyTimestampToken(forged, bytes('head one'), trust)).ok).toBe(false)
    expect(await verifyTimestampToken(bytes('not a token'), bytes('head one'), trust)).toMatchObject({ ok: false })
  })

  it('accepts each form of the ESS signing-certificate attribute a TSA sends: v1 (SHA-1), v2 (SHA-256 by default, or named)', async () => {
    for (const essCertIdAlg of ['sha1', 'sha512'] as const) {
      const other = await startLocalTsa({ essCertIdAlg })
      try {
        const trust = parseTsaTrust(other.caPem, 'ca')
        const got = await createTimestampClient({ url: other.url, trust, timeoutMs: 10_000 })(bytes('head one'))
        expect(await verifyTimestampToken(new Uint8Array(Buffer.from(got.token, 'base64')), bytes('head one'), trust)).toMatchObject({ ok: true, serial: got.serial })
      } finally {
        await other.close()
      }
    }
  })

  it('anchors the chain in its own trust only, not in a root the token brings along', async () => {
    const rogue = await startLocalTsa({ includeCa: true })
    try {
      const own = await createTimestampClient({ url: rogue.url, trust: parseTsaTrust(rogue.caPem, 'rogue ca'), timeoutMs: 10_000 })(bytes('head one'))
      const token = new Uint8Array(Buffer.from(own.token, 'base64'))
      // The token carries the TSA certificate and its root.
      expect(new SignedData({ schema: ContentInfo.fromBER(token).content }).certificates).toHaveLength(2)
      expect(await verifyTimestampToken(token, bytes('head one'), parseTsaTrust(rogue.caPem, 'rogue ca'))).toMatchObject({ ok: true })
      expect(await verifyTimestampToken(token, bytes('head one'), parseTsaTrust(tsa.caPem, 'ca'))).toEqual({ ok: false, reason: expect.stringMatching(/Validation of signer's certificate failed/) })
    } finally {
      await rogue.close()
    }
  })

  it('refuses a token whose imprint is weaker than SHA-256', async () => {
    const f = (name: string) => join(tsa.dir, name)
    writeFileSync(f('head.txt'), 'head one')
    execFileSync('openssl', ['ts', '-query', '-data', f('head.txt'), '-sha1', '-cert', '-out', f('sha1.tsq')])
    execFileSync('openssl', ['ts', '-reply', '-config', f('ts.cnf'), '-queryfile', f('sha1.tsq'), '-token_out', '-out', f('sha1.tok')])
    const token = new Uint8Array(readFileSync(f('sha1.tok')))
    expect(await verifyTimestampToken(token, bytes('head one'), parseTsaTrust(tsa.caPem, 'ca'))).toEqual({ ok: false, reason: "the token's imprint uses 1.3.14.3.2.26, not SHA-256/384/512" })
  })

  it('refuses an answer it cannot trust, and says why', async () => {
    await expect(createTimestampClient({ url: tsa.url, trust: parseTsaTrust(tsa.otherCaPem, 'other'), timeoutMs: 10_000 })(bytes('x'))).rejects.toThrow(
      /TSA 127\.0\.0\.1:\d+ answered a timestamp that does not verify: Validation of signer's certificate failed/,
    )
    tsa.mode = 'error'
    try {
      await expect(createTimestampClient({ url: tsa.url, trust: parseTsaTrust(tsa.caPem, 'ca'), timeoutMs: 10_000 })(bytes('x'))).rejects.toThrow(/answered HTTP 500/)
    } finally {
      tsa.mode = 'ok'
    }
    await expect(createTimestampClient({ url: 'http://127.0.0.1:9/tsa', trust: parseTsaTrust(tsa.caPem, 'ca'), timeoutMs: 2_000 })(bytes('x'))).rejects.toThrow(/TSA 127\.0\.0\.1:9 unreachable/)
    expect(() => createTimestampClient({ url: 'ftp://tsa.example', trust: parseTsaTrust(tsa.caPem, 'ca'), timeoutMs: 1 })).toThrow(/http\(s\)/)
  })

  it('gives up on a TSA that does not answer in time or answers too much', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/huge') res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.alloc(300 * 1024))
      // '/hang': never answers
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const trust = parseTsaTrust(tsa.caPem, 'ca')
      const started = Date.now()
      await expect(createTimestampClient({ url: `${base}/hang`, trust, timeoutMs: 200 })(bytes('x'))).rejects.toThrow(/unreachable: .*timeout/i)
      expect(Date.now() - started).toBeLessThan(5_000)
      await expect(createTimestampClient({ url: `${base}/huge`, trust, timeoutMs: 5_000 })(bytes('x'))).rejects.toThrow(/answer larger than 262144 bytes/)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
