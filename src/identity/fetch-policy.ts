/**
 * Outbound fetch rules for discovery and JWKS (workload-identity.md §3): HTTPS only unless an issuer
 * is explicitly local, no redirects, a timeout, and a bounded response body. Uses the global `fetch`
 * (domain modules must not import an HTTP client, eslint `domainBoundary`).
 */

/** Thrown by key sources; its message is code-built and safe to log (no URL, no body). */
export class KeySourceError extends Error {
  override readonly name = 'KeySourceError'
}

export const MAX_DISCOVERY_BYTES = 64 * 1024
export const MAX_JWKS_BYTES = 256 * 1024

/**
 * Refuses URLs the gateway must not fetch: other schemes, `http:` unless the issuer allows it
 * (loopback dev/test issuers), and embedded credentials.
 */
export function assertFetchableUrl(url: URL, allowInsecureHttp: boolean, what: string): void {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowInsecureHttp)) {
    throw new KeySourceError(`${what} must use https`)
  }
  if (url.username !== '' || url.password !== '') throw new KeySourceError(`${what} must not carry credentials`)
}

/**
 * GET a JSON document: `redirect: 'manual'` so a 3xx is a failure (jose does the same for JWKS),
 * a timeout covering headers and body, and at most `maxBytes` read.
 */
export async function fetchJson(url: URL, timeoutMs: number, maxBytes: number, what: string): Promise<unknown> {
  let response: Response
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    response = await fetch(url, { method: 'GET', redirect: 'manual', signal, headers: { accept: 'application/json' } })
  } catch (err) {
    throw describeFetchFailure(err, what)
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined)
    throw new KeySourceError(`${what} answered HTTP ${response.status}`)
  }
  const text = await readBoundedText(response, maxBytes, what)
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new KeySourceError(`${what} is not JSON`)
  }
}

/** Reads a response body up to `maxBytes`; a larger body is a failure, not a truncation. */
export async function readBoundedText(response: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined)
    throw new KeySourceError(`${what} response too large`)
  }
  const body = response.body
  if (body === null) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined)
        throw new KeySourceError(`${what} response too large`)
      }
      chunks.push(value)
    }
  } catch (err) {
    throw err instanceof KeySourceError ? err : describeFetchFailure(err, what)
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw new KeySourceError(`${what} is not UTF-8`)
  }
}

/** Converts a fetch rejection into a safe error (undici messages may contain the URL). */
export function describeFetchFailure(err: unknown, what: string): KeySourceError {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined
  if (name === 'TimeoutError' || name === 'AbortError') return new KeySourceError(`${what} timed out`)
  return new KeySourceError(`${what} unreachable`)
}
