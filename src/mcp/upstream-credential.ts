import type { McpServerConfig } from '../config/schema.js'
import type { Secret } from '../config/secret-source.js'
import { GatewayError } from '../errors/gateway-error.js'

/** The `Authorization` value the gateway sends one MCP server, or undefined for an open server. */
export type McpCredential = () => Promise<string | undefined>

/** Refreshed this long before `expires_in` says, so a token never expires on its way upstream. */
const refreshMarginMs = 30_000

/**
 * The gateway's credential for an MCP server (issue #19: clients never hold it). A bearer secret is
 * read on each call (a `fromFile` secret follows rotation); OAuth client credentials are exchanged at
 * the token URL and the access token cached until shortly before it expires, one exchange at a time.
 * A failed exchange is a 502 without the token endpoint's body (it may echo the secret).
 */
export function mcpCredential(server: Pick<McpServerConfig, 'id' | 'auth'>, secret: Secret | undefined, options: { readonly fetch?: typeof fetch; readonly now?: () => number } = {}): McpCredential {
  const auth = server.auth
  if (auth === undefined) return async () => undefined
  if (secret === undefined) throw new GatewayError('GW_INTERNAL', { detail: `mcpServers ${server.id}: its secret was not resolved` })
  if ('bearer' in auth) return async () => `Bearer ${secret.reveal()}`
  const cc = auth.clientCredentials
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? Date.now
  let cached: { value: string; until: number } | undefined
  let pending: Promise<string> | undefined
  async function exchange(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', ...(cc.scope === undefined ? {} : { scope: cc.scope }) })
    const basic = Buffer.from(`${encodeURIComponent(cc.clientId)}:${encodeURIComponent(secret!.reveal())}`).toString('base64')
    let response: Response
    try {
      response = await doFetch(cc.tokenUrl, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body, signal: AbortSignal.timeout(10_000) })
    } catch (error) {
      throw new GatewayError('GW_UPSTREAM_UNREACHABLE', { publicDetail: `MCP server ${server.id}: its token endpoint is unreachable`, detail: (error as Error).message })
    }
    const json = (await response.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown; token_type?: unknown } | undefined
    if (!response.ok || typeof json?.access_token !== 'string' || json.access_token === '') {
      throw new GatewayError('GW_UPSTREAM_UNREACHABLE', { publicDetail: `MCP server ${server.id}: the token endpoint refused the gateway's client credentials (${response.status})` })
    }
    const lifetimeMs = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in * 1000 : 300_000
    cached = { value: `Bearer ${json.access_token}`, until: now() + Math.max(0, lifetimeMs - refreshMarginMs) }
    return cached.value
  }
  return async () => {
    if (cached !== undefined && now() < cached.until) return cached.value
    pending ??= exchange().finally(() => {
      pending = undefined
    })
    return pending
  }
}
