import { Certificate } from 'pkijs'
import { fromBER } from 'asn1js'

/** The CA certificates a TSA's signing certificate must chain to (`audit.timestamping.trust`, `--tsa-cert`). */
export type TsaTrust = readonly Certificate[]

const pemBlock = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g

/** Every certificate of a PEM text; throws a message naming `name` when there is none or one does not parse. */
export function parseTsaTrust(pem: string, name: string): TsaTrust {
  const certs: Certificate[] = []
  for (const match of pem.matchAll(pemBlock)) {
    const der = Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64')
    const asn = fromBER(new Uint8Array(der))
    if (asn.offset === -1) throw new Error(`${name}: certificate ${certs.length + 1} is not valid DER`)
    try {
      certs.push(new Certificate({ schema: asn.result }))
    } catch (error) {
      throw new Error(`${name}: certificate ${certs.length + 1} is not an X.509 certificate (${(error as Error).message})`)
    }
  }
  if (certs.length === 0) throw new Error(`${name}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`)
  return certs
}
