import type { IncomingMessage } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isCanonicalApiPath } from '../../src/http/api-request.js'
import { clientAddresses } from '../../src/http/client-address.js'

const req = (peer: string, xff?: string | string[]) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage

describe('clientAddresses (listen.trustedProxies)', () => {
  it('without trusted proxies the peer is the client, whatever X-Forwarded-For says', () => {
    const of = clientAddresses([]).of
    expect(of(req('192.0.2.10', '203.0.113.1'))).toBe('192.0.2.10')
    expect(of(req('::ffff:192.0.2.10'))).toBe('192.0.2.10')
  })

  it('a peer outside the trusted ranges is the client even when it sends X-Forwarded-For', () => {
    expect(clientAddresses(['10.0.0.0/8']).of(req('192.0.2.10', '203.0.113.1'))).toBe('192.0.2.10')
  })

  it('behind trusted proxies: the rightmost address no trusted proxy added', () => {
    const of = clientAddresses(['10.0.0.0/8', '2001:db8::/32', '127.0.0.1']).of
    expect(of(req('10.0.0.1', '203.0.113.1'))).toBe('203.0.113.1')
    expect(of(req('10.0.0.1', '198.51.100.9, 203.0.113.1, 10.9.9.9'))).toBe('203.0.113.1')
    expect(of(req('10.0.0.1', ['198.51.100.9', '203.0.113.1, 10.2.2.2']))).toBe('203.0.113.1')
    expect(of(req('2001:db8::1', '2001:DB8:1::5, 2001:db8::7'))).toBe('2001:db8:1::5')
    expect(of(req('::ffff:127.0.0.1', '203.0.113.4'))).toBe('203.0.113.4')
  })

  it('every hop trusted: the leftmost; none forwarded or a malformed hop: the last address vouched for', () => {
    const of = clientAddresses(['10.0.0.0/8']).of
    expect(of(req('10.0.0.1', '10.0.0.5, 10.0.0.6'))).toBe('10.0.0.5')
    expect(of(req('10.0.0.1'))).toBe('10.0.0.1')
    expect(of(req('10.0.0.1', 'not-an-ip, 10.0.0.6'))).toBe('10.0.0.6')
    expect(of(req('10.0.0.1', '203.0.113.1, unknown'))).toBe('10.0.0.1')
  })

  it('a client cannot choose its own address by prepending entries (any prefix, same client)', () => {
    const of = clientAddresses(['10.0.0.0/8']).of
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 8 })), { maxLength: 5 }), (spoofed) => {
        const header = [...spoofed, '203.0.113.77', '10.1.1.1'].join(', ')
        expect(of(req('10.0.0.2', header))).toBe('203.0.113.77')
      }),
      { seed: 1216, numRuns: 200 },
    )
  })
})

describe('canonical /v1 paths', () => {
  it.each(['/v1/messages', '/v1/messages/batches', '/v1/messages/batches/msgbatch_01/results', '/v1/models/claude-sonnet-4-6', '/v1/skills/skill_01/versions/1759178010641129'])(
    '%s is canonical',
    (path) => expect(isCanonicalApiPath(path)).toBe(true),
  )

  it.each(['/v1/', '/v1', '/v1/messages/', '/v1//messages', '/v1/./messages', '/v1/messages/..', '/v1/%6Dessages', '/v1/messages%2Fbatches', '/v1/messages\\batches', '/v1/mess ages', '/v2/messages', '/v1/messages/batches/'])(
    '%s is refused',
    (path) => expect(isCanonicalApiPath(path)).toBe(false),
  )
})
