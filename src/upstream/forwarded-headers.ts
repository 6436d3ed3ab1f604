/**
 * Which client headers go upstream. Everything passes (unknown headers and new betas included)
 * except: hop-by-hop headers (RFC 9110 §7.6.1) and those the Connection header names; the client's
 * credentials; `host` and framing, which the upstream client sets; our own `skillgate-*` control
 * headers; and `accept-encoding`, replaced by `identity` because the gateway must read what comes back.
 * A client can therefore never pre-set a header the gateway sets (oauth2-proxy `header.go`).
 */
const dropped = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'authorization',
  'x-api-key',
  'cookie',
  'accept-encoding',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
])

/** The `oauth-2025-04-20` beta describes the client's own OAuth credential (anthropic-api.md §12.4). */
const clientCredentialBetas = new Set(['oauth-2025-04-20'])

export interface UpstreamCredential {
  readonly header: 'x-api-key' | 'authorization'
  readonly value: string
  /** True when the gateway calls upstream with a federated OAuth token (then the beta is needed). */
  readonly oauth: boolean
}

/** Builds the upstream header list from the raw client headers, in their original order. */
export function buildUpstreamHeaders(rawHeaders: readonly string[], credential: UpstreamCredential): string[] {
  const connectionNamed = new Set<string>()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') {
      for (const name of (rawHeaders[i + 1] ?? '').split(',')) connectionNamed.add(name.trim().toLowerCase())
    }
  }
  const out: string[] = []
  let sawBeta = false
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? ''
    const value = rawHeaders[i + 1] ?? ''
    const lower = name.toLowerCase()
    if (dropped.has(lower) || connectionNamed.has(lower) || lower.startsWith('skillgate-')) continue
    if (lower === 'anthropic-beta') {
      sawBeta = true
      const kept = filterBetas(value, credential.oauth)
      if (kept !== '') out.push(name, kept)
      continue
    }
    out.push(name, value)
  }
  if (credential.oauth && !sawBeta) out.push('anthropic-beta', 'oauth-2025-04-20')
  out.push('accept-encoding', 'identity')
  out.push(credential.header, credential.header === 'authorization' ? `Bearer ${credential.value}` : credential.value)
  return out
}

function filterBetas(value: string, oauth: boolean): string {
  const betas = value.split(',').map((b) => b.trim())
  if (!betas.some((b) => clientCredentialBetas.has(b))) {
    if (!oauth) return value
    return `${value},oauth-2025-04-20`
  }
  const kept = betas.filter((b) => b !== '' && !clientCredentialBetas.has(b))
  if (oauth) kept.push('oauth-2025-04-20')
  return kept.join(',')
}

/** Response headers that must not be relayed as they are (hop-by-hop and framing). */
const droppedResponse = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-authenticate', 'te'])

/** Names arrive lower-cased (undici); `for…in` over the own keys spares an entries array per response. */
export function filterResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue
    const value = headers[name]
    if (value === undefined || droppedResponse.has(name)) continue
    out[name] = value
  }
  return out
}
