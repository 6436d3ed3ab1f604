import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ContentInfo, SignedData, TimeStampReq } from 'pkijs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { parseTsaTrust, verifyTimestampToken, type TsaTrust } from '../../src/audit/timestamp/index.js'
import { describeWithOpenssl, startLocalTsa, type LocalTsa } from './local-tsa.js'
import { id_aa_signingCertificate, id_aa_signingCertificateV2, loadSigner, pemBody, signTstInfo, type EssChoice, type TstSigner } from './sign-tst.js'

/**
 * What the verifier asks of the TSA certificate and of the token's signer info beyond the
 * signature and the chain (RFC 3161 §2.3, §2.4.1): the critical timeStamping extended key usage
 * and no other purpose, a key usage (if any) that allows signing, and an ESS signing-certificate
 * attribute naming that certificate. `openssl ts -reply` makes none of these mistakes, so the
 * tokens here are a real one from the local TSA whose TSTInfo (imprint, nonce, time: all
 * unchanged) is signed again, in the test with pkijs (./sign-tst.ts), by certificates from the
 * same trusted CA. A control signed the same way with a proper certificate and attribute must
 * verify, so each refusal comes from the one thing its token gets wrong.
 */
const run = promisify(execFile)
const suite = 'a TSA certificate or signer info that RFC 3161 does not allow'
const data = new Uint8Array(Buffer.from('head one'))
const id_ct_TSTInfo = '1.2.840.113549.1.9.16.1.4'
const digitalSignature = 'keyUsage=critical,digitalSignature'
const timeStamping = 'extendedKeyUsage=critical,timeStamping'

/** The signers, each a P-256 key and a certificate from the test TSA CA; they differ in their key usages only. */
const signers = {
  timeStamping: [timeStamping, digitalSignature],
  noEku: ['', digitalSignature],
  nonCritical: ['extendedKeyUsage=timeStamping', digitalSignature],
  serverAuth: ['extendedKeyUsage=critical,serverAuth', digitalSignature],
  alsoServerAuth: ['extendedKeyUsage=critical,serverAuth,timeStamping', digitalSignature],
  keyCertSign: [timeStamping, 'keyUsage=critical,keyCertSign'],
  nonRepudiation: [timeStamping, 'keyUsage=critical,nonRepudiation'],
  noKeyUsage: [timeStamping, ''],
} as const
type Signer = keyof typeof signers
const signerNames = Object.keys(signers) as Signer[]

/** The tokens: each signer's own (ESS v2 naming its certificate), and the control's certificate with a wrong or another ESS attribute. */
type Variant = 'noEss' | 'essNamesTsa' | 'essNamesCa' | 'essV1' | 'essV2Sha384'
const variants = (ca: Uint8Array, tsaCert: Uint8Array): Record<Variant, [Signer, EssChoice]> => ({
  noEss: ['timeStamping', 'none'],
  essNamesTsa: ['timeStamping', { version: 'v2', names: tsaCert }],
  essNamesCa: ['timeStamping', { version: 'v2', names: ca }],
  essV1: ['timeStamping', { version: 'v1' }],
  essV2Sha384: ['timeStamping', { version: 'v2', hash: 'SHA-384' }],
})

const reasons = {
  noEku: 'the TSA certificate has no extended key usage (timeStamping required)',
  nonCritical: "the TSA certificate's extended key usage is not critical (RFC 3161 §2.3)",
  serverAuth: 'the TSA certificate is not for timeStamping (extended key usage)',
  alsoServerAuth: 'the TSA certificate is not reserved for timeStamping (its extended key usage lists other purposes)',
  keyCertSign: "the TSA certificate's key usage does not allow signing",
  noEss: 'the token does not name its signing certificate (no ESS signing-certificate attribute, RFC 3161 §2.4.1)',
  otherCert: "the token's ESS signing-certificate attribute names another certificate",
} as const

describeWithOpenssl(suite, () => {
  let tsa: LocalTsa
  let trust: TsaTrust
  let nonce: Uint8Array
  let original: Uint8Array
  let tstInfo: Uint8Array
  let caDer: Uint8Array
  let tsaDer: Uint8Array
  const certs = new Map<Signer, TstSigner>()
  const tokens = new Map<Signer | Variant, Uint8Array>()
  const f = (name: string) => join(tsa.dir, name)

  beforeAll(async () => {
    tsa = await startLocalTsa()
    trust = parseTsaTrust(tsa.caPem, 'ca')
    const ossl = (...args: string[]) => run('openssl', args, { cwd: tsa.dir })
    writeFileSync(f('eku.cnf'), Object.entries(signers).flatMap(([name, [eku, keyUsage]]) => [
      `[${name}]`,
      'basicConstraints=CA:FALSE',
      keyUsage,
      eku,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
    ]).join('\n') + '\n')
    // The certificates before the token: their notBefore (whole seconds) must not be after its genTime.
    await Promise.all(signerNames.map(async (name, i) => {
      await ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=skillgate test TSA ${name}`)
      await ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-set_serial', String(0x1000 + i), '-out', f(`${name}.pem`), '-days', '2', '-extfile', f('eku.cnf'), '-extensions', name)
      certs.set(name, await loadSigner(readFileSync(f(`${name}.pem`), 'utf8'), readFileSync(f(`${name}.key`), 'utf8')))
    }))
    // A real token from the local TSA's own configuration, and the TSTInfo it signed.
    writeFileSync(f('eku-head.txt'), data)
    await ossl('ts', '-query', '-data', f('eku-head.txt'), '-sha256', '-cert', '-out', f('eku.tsq'))
    await ossl('ts', '-reply', '-config', f('ts.cnf'), '-queryfile', f('eku.tsq'), '-token_out', '-out', f('eku.tok'))
    original = new Uint8Array(readFileSync(f('eku.tok')))
    const eContent = new SignedData({ schema: ContentInfo.fromBER(original).content }).encapContentInfo.eContent
    if (!eContent) throw new Error('openssl ts -reply made a token without its TSTInfo')
    tstInfo = eContent.valueBlock.valueHexView.slice()
    const requested = TimeStampReq.fromBER(new Uint8Array(readFileSync(f('eku.tsq')))).nonce
    if (!requested) throw new Error('openssl ts -query made no nonce')
    nonce = new Uint8Array(requested.valueBlock.valueHexView)
    caDer = pemBody(tsa.caPem)
    tsaDer = pemBody(readFileSync(f('tsa.pem'), 'utf8'))
    // The same TSTInfo signed again: by each certificate, with an ESS attribute naming it; by the control's with another attribute.
    const jobs: [Signer | Variant, Signer, EssChoice][] = [
      ...signerNames.map((name): [Signer, Signer, EssChoice] => [name, name, { version: 'v2' }]),
      ...Object.entries(variants(caDer, tsaDer)).map(([name, [by, ess]]): [Variant, Signer, EssChoice] => [name as Variant, by, ess]),
    ]
    await Promise.all(jobs.map(async ([name, by, ess]) => {
      tokens.set(name, await signTstInfo(tstInfo, signer(by), ess))
    }))
  })
  afterAll(async () => {
    await tsa?.close()
  })

  const signer = (name: Signer): TstSigner => {
    const got = certs.get(name)
    if (!got) throw new Error(`no certificate ${name}`)
    return got
  }
  const token = (name: Signer | Variant): Uint8Array => {
    const der = tokens.get(name)
    if (!der) throw new Error(`no token ${name}`)
    return der
  }
  const verify = (name: Signer | Variant) => verifyTimestampToken(token(name), data, trust, nonce)
  /** `openssl ts -verify` on a token: an independent reading (it wants the ESS attribute too, and a timeStamping-only EKU). */
  const opensslVerifies = async (name: Signer | Variant): Promise<boolean> => {
    writeFileSync(f(`check-${name}.tok`), token(name))
    return run('openssl', ['ts', '-verify', '-token_in', '-in', f(`check-${name}.tok`), '-data', f('eku-head.txt'), '-CAfile', tsa.caPath], { cwd: tsa.dir }).then(() => true, () => false)
  }

  it('re-signs the very TSTInfo of a real token, naming the new certificate as its one signer, with the attributes a TSA signs', async () => {
    for (const name of tokens.keys()) {
      const signed = new SignedData({ schema: ContentInfo.fromBER(token(name)).content })
      expect(signed.encapContentInfo.eContentType).toBe(id_ct_TSTInfo)
      expect(Buffer.from(signed.encapContentInfo.eContent?.valueBlock.valueHexView ?? [])).toEqual(Buffer.from(tstInfo))
      expect(signed.signerInfos).toHaveLength(1)
      expect(signed.certificates).toHaveLength(1)
      const by = name in signers ? (name as Signer) : variants(caDer, tsaDer)[name as Variant][0]
      const cert = signed.certificates?.[0]
      expect(cert && 'tbsView' in cert && Buffer.from(cert.toSchema().toBER())).toEqual(Buffer.from(signer(by).certDer))
      const attrs = signed.signerInfos[0]?.signedAttrs?.attributes.map((a) => a.type)
      const ess = name === 'noEss' ? [] : [name === 'essV1' ? id_aa_signingCertificate : id_aa_signingCertificateV2]
      expect(attrs?.slice().sort()).toEqual(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', ...ess].sort())
    }
    // OpenSSL reads the control (ESS v2 and v1) as a TSA token, and refuses the ones without or with another ESS attribute.
    expect(await Promise.all((['timeStamping', 'essV1', 'essV2Sha384', 'noEss', 'essNamesTsa', 'essNamesCa'] as const).map(opensslVerifies))).toEqual([true, true, true, false, false, false])
  })

  it('accepts the control: the original token, and the TSTInfo re-signed by a critical timeStamping certificate naming itself', async () => {
    expect(await verifyTimestampToken(original, data, trust, nonce)).toMatchObject({ ok: true, tsa: 'CN=skillgate test TSA' })
    expect(await verify('timeStamping')).toMatchObject({ ok: true, tsa: 'CN=skillgate test TSA timeStamping' })
    // Re-signing changes nothing the token states.
    const [was, is] = await Promise.all([verifyTimestampToken(original, data, trust), verifyTimestampToken(token('timeStamping'), data, trust)])
    expect(was.ok && is.ok).toBe(true)
    expect(is.ok && { time: is.time, serial: is.serial }).toEqual(was.ok && { time: was.time, serial: was.serial })
  })

  it('refuses a signer certificate without extendedKeyUsage', async () => {
    expect(await verify('noEku')).toEqual({ ok: false, reason: reasons.noEku })
  })

  it('refuses a signer certificate whose timeStamping extendedKeyUsage is not critical', async () => {
    expect(await verify('nonCritical')).toEqual({ ok: false, reason: reasons.nonCritical })
  })

  it('refuses a signer certificate whose critical extendedKeyUsage is not timeStamping', async () => {
    expect(await verify('serverAuth')).toEqual({ ok: false, reason: reasons.serverAuth })
  })

  it('refuses a signer certificate whose critical extendedKeyUsage lists another purpose besides timeStamping', async () => {
    expect(await verify('alsoServerAuth')).toEqual({ ok: false, reason: reasons.alsoServerAuth })
  })

  it('refuses a signer certificate whose key usage allows neither digitalSignature nor nonRepudiation', async () => {
    expect(await verify('keyCertSign')).toEqual({ ok: false, reason: reasons.keyCertSign })
  })

  it('refuses a token without the ESS signing-certificate attribute', async () => {
    expect(await verify('noEss')).toEqual({ ok: false, reason: reasons.noEss })
  })

  it('refuses a token whose ESS signing-certificate attribute names another certificate', async () => {
    expect(await verify('essNamesTsa')).toEqual({ ok: false, reason: reasons.otherCert })
    expect(await verify('essNamesCa')).toEqual({ ok: false, reason: reasons.otherCert })
  })

  it('accepts what RFC 3161 allows: a nonRepudiation or no key usage, the v1 ESS attribute (SHA-1), a v2 one with another hash', async () => {
    for (const name of ['nonRepudiation', 'noKeyUsage', 'essV1', 'essV2Sha384'] as const) {
      expect({ name, check: await verify(name) }).toMatchObject({ name, check: { ok: true } })
    }
  })

  it('checks the extended key usage, then the key usage, then the ESS attribute', async () => {
    const noEss = async (by: Signer) => verifyTimestampToken(await signTstInfo(tstInfo, signer(by), 'none'), data, trust, nonce)
    expect(await noEss('noEku')).toEqual({ ok: false, reason: reasons.noEku })
    expect(await noEss('alsoServerAuth')).toEqual({ ok: false, reason: reasons.alsoServerAuth })
    expect(await noEss('keyCertSign')).toEqual({ ok: false, reason: reasons.keyCertSign })
  })

  it('checks the chain before the key usage: a bad certificate from an untrusted CA fails on the chain', async () => {
    expect(await verifyTimestampToken(token('noEku'), data, parseTsaTrust(tsa.otherCaPem, 'other'), nonce)).toEqual({ ok: false, reason: expect.stringMatching(/Validation of signer's certificate failed/) })
  })
})
