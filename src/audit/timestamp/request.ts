import { createHash, randomBytes } from 'node:crypto'
import { Integer, OctetString } from 'asn1js'
import { AlgorithmIdentifier, MessageImprint, TimeStampReq, id_sha256 } from 'pkijs'

/** An RFC 3161 TimeStampReq over SHA-256 of `data`, with a fresh 64-bit nonce and certReq (the TSA's certificate in the token). */
export interface TimestampRequest {
  readonly der: Uint8Array
  readonly nonce: Uint8Array
}

export function timestampRequest(data: Uint8Array): TimestampRequest {
  // A positive INTEGER: the high bit clear, so the DER needs no leading zero byte and compares byte for byte.
  const nonce = randomBytes(8)
  nonce[0] = (nonce[0] ?? 0) & 0x7f | 0x01
  const request = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: id_sha256 }),
      hashedMessage: new OctetString({ valueHex: createHash('sha256').update(data).digest() }),
    }),
    nonce: new Integer({ valueHex: nonce }),
    certReq: true,
  })
  return { der: new Uint8Array(request.toSchema().toBER()), nonce: new Uint8Array(nonce) }
}
