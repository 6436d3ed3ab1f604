import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'vitest'

const run = promisify(execFile)

/** Whether `openssl` (with its `ts` command) is on the PATH; the RFC 3161 tests need it to play the TSA. */
export const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['ts', '-help'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** A suite that needs openssl: skipped with a one-line reason where it is missing, failing under CI=true. */
export function describeWithOpenssl(name: string, body: () => void): void {
  if (hasOpenssl) {
    describe(name, body)
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs openssl when CI=true', () => {
        throw new Error('openssl is missing; CI=true requires the RFC 3161 tests to run')
      })
    })
  } else {
    console.warn(`skipping ${name}: openssl missing (no local TSA)`)
    describe.skip(name, body)
  }
}

/**
 * A local RFC 3161 TSA for tests: a fresh CA and a TSA certificate (EKU critical timeStamping;
 * openssl refuses to sign without it, so a token lacking it cannot be made here) made with openssl in a temp dir, and a node:http server on 127.0.0.1
 * answering `application/timestamp-query` with `openssl ts -reply`. `mode` switches it to
 * failing (HTTP 500) while a test runs; `otherCaPem` is a CA that signed nothing here;
 * `includeCa` puts the CA certificate in every token; `essCertIdAlg` picks how the token names its certificate.
 */
export interface LocalTsa {
  readonly url: string
  readonly dir: string
  readonly caPem: string
  readonly caPath: string
  readonly otherCaPem: string
  readonly otherCaPath: string
  /** Requests answered with a token. */
  readonly granted: () => number
  mode: 'ok' | 'error'
  close(): Promise<void>
}

export async function startLocalTsa(options: { includeCa?: boolean; essCertIdAlg?: 'sha1' | 'sha256' | 'sha512' } = {}): Promise<LocalTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-tsa-'))
  const f = (name: string) => join(dir, name)
  const ossl = (...args: string[]) => run('openssl', args, { cwd: dir })
  const newCa = (name: string, cn: string) =>
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '2',
      '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  await newCa('ca', 'skillgate test TSA CA')
  await newCa('other-ca', 'some other CA')
  await ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('tsa.key'), '-out', f('tsa.csr'), '-subj', '/CN=skillgate test TSA')
  writeFileSync(f('ext.cnf'), [
    '[tsa]',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=critical,timeStamping',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
    '',
  ].join('\n'))
  await ossl('x509', '-req', '-in', f('tsa.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('tsa.pem'), '-days', '2', '-extfile', f('ext.cnf'), '-extensions', 'tsa')
  writeFileSync(f('tsaserial'), '01\n')
  writeFileSync(f('ts.cnf'), [
    '[tsa]',
    'default_tsa = tsa_config1',
    '[tsa_config1]',
    `serial = ${f('tsaserial')}`,
    'crypto_device = builtin',
    `signer_cert = ${f('tsa.pem')}`,
    `signer_key = ${f('tsa.key')}`,
    // The CA in every token too (some TSAs send their chain): a verifier must still anchor it in its own trust.
    options.includeCa ? `certs = ${f('ca.pem')}` : '',
    'signer_digest = sha256',
    'default_policy = 1.2.3.4.1',
    // sha1 only so a test can make a token with a weak imprint (the gateway never asks for one).
    'digests = sha1, sha256, sha384, sha512',
    'accuracy = secs:1',
    'ordering = no',
    'tsa_name = no',
    'ess_cert_id_chain = no',
    // sha1: an ESS SigningCertificate (v1); otherwise SigningCertificateV2 (SHA-256 is its default, left out of the DER).
    `ess_cert_id_alg = ${options.essCertIdAlg ?? 'sha256'}`,
    '',
  ].join('\n'))

  let granted = 0
  let n = 0
  // openssl ts keeps its serial in a file: one reply at a time.
  let queue: Promise<unknown> = Promise.resolve()
  const reply = async (query: Buffer): Promise<Buffer> => {
    const id = ++n
    writeFileSync(f(`q${id}.der`), query)
    await ossl('ts', '-reply', '-config', f('ts.cnf'), '-queryfile', f(`q${id}.der`), '-out', f(`r${id}.der`))
    return readFileSync(f(`r${id}.der`))
  }
  const tsa: LocalTsa = {
    url: '',
    dir,
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    caPath: f('ca.pem'),
    otherCaPem: readFileSync(f('other-ca.pem'), 'utf8'),
    otherCaPath: f('other-ca.pem'),
    granted: () => granted,
    mode: 'ok',
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (tsa.mode === 'error' || req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(500).end()
        return
      }
      const answer = queue.then(() => reply(Buffer.concat(chunks)))
      queue = answer.catch(() => undefined)
      answer.then(
        (body) => {
          granted += 1
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(body)
        },
        () => res.writeHead(500).end(),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(tsa, { url: `http://127.0.0.1:${port}/tsa` })
}
