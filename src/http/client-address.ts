import { BlockList, isIP, isIPv4 } from 'node:net'
import type { IncomingMessage } from 'node:http'

/**
 * Which address a request comes from (`listen.trustedProxies`): the connection's peer, unless that
 * peer is a trusted proxy; then `X-Forwarded-For` is read from the right, skipping trusted proxies,
 * and the first address no trusted proxy vouches for is the client. Entries left of it were written
 * by the client itself and are never believed, so a client cannot pick its own address (and so its
 * own unauthenticated budget, or whose record its refusals are counted under).
 */
export interface ClientAddresses {
  of(req: IncomingMessage): string
}

/** @param trustedProxies addresses or CIDR ranges, as validated by the configuration schema. */
export function clientAddresses(trustedProxies: readonly string[]): ClientAddresses {
  const trusted = trustList(trustedProxies)
  const isTrusted = (address: string) => trusted !== undefined && trusted.check(address, isIPv4(address) ? 'ipv4' : 'ipv6')
  return {
    of(req) {
      const peer = normalise(req.socket.remoteAddress ?? '')
      if (!isTrusted(peer)) return peer
      return throughProxies(peer, forwardedFor(req.headers['x-forwarded-for']), isTrusted)
    },
  }
}

function throughProxies(peer: string, hops: readonly string[], isTrusted: (address: string) => boolean): string {
  let client = peer
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalise(hops[i] ?? '')
    // A malformed entry ends the walk: nothing left of it can be attributed to anyone.
    if (!isAddress(hop)) return client
    client = hop
    if (!isTrusted(hop)) return hop
  }
  return client
}

/** Every `X-Forwarded-For` header, in order, split at commas. */
function forwardedFor(header: string | string[] | undefined): string[] {
  if (header === undefined) return []
  const lines = Array.isArray(header) ? header : [header]
  return lines.flatMap((line) => line.split(',')).map((entry) => entry.trim())
}

function trustList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/')
    const type = isIPv4(address) ? 'ipv4' : 'ipv6'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefix), type)
  }
  return list
}

const isAddress = (text: string) => isIP(text) !== 0

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`; IPv6 in lower case. */
function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped?.[1] ?? address.toLowerCase()
}
