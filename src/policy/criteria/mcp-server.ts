import type { Reason } from '../reasons.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion, type GrantProblem } from './criterion.js'

/** A parsed `allow.mcpServers` entry. */
interface UrlPrefix {
  readonly protocol: string
  readonly host: string
  readonly path: string
}

export type UrlPrefixResult = { readonly ok: true; readonly prefix: UrlPrefix } | { readonly ok: false; readonly message: string }

/**
 * An MCP connector URL prefix. Compared as parsed URLs, not as strings: `https://mcp.example.com`
 * as a string prefix would also admit `https://mcp.example.com.evil.net/` and
 * `https://mcp.example.com@evil.net/`.
 */
export function compileUrlPrefix(text: string): UrlPrefixResult {
  const url = parseUrl(text)
  if (!url) return { ok: false, message: `"${text}" is not an absolute URL` }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: 'an MCP server URL is http(s)' }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return { ok: false, message: 'an MCP server prefix has no credentials, query or fragment' }
  }
  return { ok: true, prefix: { protocol: url.protocol, host: url.host, path: url.pathname } }
}

/** Same scheme and host (port included), and the path continues the prefix at a segment boundary. */
function matchesPrefix(prefix: UrlPrefix, url: URL): boolean {
  if (url.protocol !== prefix.protocol || url.host !== prefix.host) return false
  if (url.username !== '' || url.password !== '') return false
  if (prefix.path === '/' || url.pathname === prefix.path) return true
  const base = prefix.path.endsWith('/') ? prefix.path : `${prefix.path}/`
  return url.pathname.startsWith(base)
}

/**
 * `allow.mcpServers`: every `mcp_servers[*].url` lies under an allowed prefix; absent grants none.
 * Reasons show origin and path only: a query string may carry a credential.
 */
export const mcpServerCriterion: Criterion = {
  name: 'mcp-server',
  validate(allow) {
    const problems: GrantProblem[] = []
    allow.mcpServers?.forEach((entry, i) => {
      const compiled = compileUrlPrefix(entry)
      if (!compiled.ok) problems.push({ path: ['mcpServers', i], message: compiled.message, hint: 'e.g. https://mcp.example.com/acme/' })
    })
    return problems
  },
  compile(allow) {
    const prefixes = (allow.mcpServers ?? []).flatMap((entry) => {
      const compiled = compileUrlPrefix(entry)
      return compiled.ok ? [compiled.prefix] : []
    })
    return function checkMcpServers({ facts }) {
      const used = facts.bodies.flatMap((body) => body.mcpServers.map((url) => ({ url: parseUrl(url), at: body.at })))
      if (used.length === 0) return nothingToCheck
      const denied: Reason[] = []
      for (const { url, at } of used) {
        if (!url || !prefixes.some((prefix) => matchesPrefix(prefix, url))) denied.push({ code: 'mcp-server-not-granted', detail: nameDetail(url ? shown(url) : '', at) })
      }
      return verdict([{ code: 'mcp-server-granted', detail: listDetail(used.map(({ url }) => (url ? shown(url) : ''))) }], denied)
    }
  },
}

const shown = (url: URL) => `${url.origin}${url.pathname}`

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}
