import { compileGlob } from '../glob.js'
import type { McpServerGrantInput } from '../input.js'
import type { Reason } from '../reasons.js'
import type { EnabledTools } from '../request-facts.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion, type GrantProblem } from './criterion.js'

/** A parsed `allow.mcpServers` URL prefix. */
interface UrlPrefix {
  readonly protocol: string
  readonly host: string
  readonly path: string
}

/** A compiled `allow.mcpServers` entry: where, and which tools (absent globs: every tool). */
interface ServerGrant {
  readonly prefix: UrlPrefix
  readonly everyTool: boolean
  readonly tools: readonly ((name: string) => boolean)[]
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

const urlOf = (entry: McpServerGrantInput) => (typeof entry === 'string' ? entry : entry.url)

function compileGrant(entry: McpServerGrantInput): ServerGrant | undefined {
  const compiled = compileUrlPrefix(urlOf(entry))
  if (!compiled.ok) return undefined
  const globs = typeof entry === 'string' ? ['*'] : entry.tools
  return { prefix: compiled.prefix, everyTool: globs.includes('*'), tools: globs.map(compileGlob) }
}

/** `skillgate:{id}`: a gateway MCP server (mcpServers[].id) reached through Claude's connector (docs/mcp-connector.md). */
export const GATEWAY_SERVER_SCHEME = 'skillgate:'

/** The server id of a `skillgate:{id}` URL, '' when the rest is not an id; undefined for any other URL. */
export function gatewayServerId(url: string): string | undefined {
  if (!url.startsWith(GATEWAY_SERVER_SCHEME)) return undefined
  const id = url.slice(GATEWAY_SERVER_SCHEME.length)
  return /^[a-z0-9-]{1,63}$/.test(id) ? id : ''
}

/**
 * `allow.mcpServers`: every `mcp_servers[*].url` lies under an allowed prefix, and every tool the
 * request enables on it (facts/mcp-toolsets.ts) matches the tool globs of an entry covering that URL.
 * A set left open-ended (a toolset enabled by default) is granted only by an entry granting `*`.
 * Absent grants none. Reasons show origin and path only: a query string may carry a credential.
 *
 * A `skillgate:{id}` server is judged by `allow.mcp[id]` instead: the gateway serves it, so the tools
 * the request enables are cut to the rule's globs by the capability the connector receives (and
 * again at `/mcp/{id}`) rather than refused here.
 */
export const mcpServerCriterion: Criterion = {
  name: 'mcp-server',
  validate(allow) {
    const problems: GrantProblem[] = []
    allow.mcpServers?.forEach((entry, i) => {
      const compiled = compileUrlPrefix(urlOf(entry))
      if (!compiled.ok) problems.push({ path: ['mcpServers', i, ...(typeof entry === 'string' ? [] : ['url'])], message: compiled.message, hint: 'e.g. https://mcp.example.com/acme/' })
    })
    return problems
  },
  compile(allow) {
    const grants = (allow.mcpServers ?? []).flatMap((entry) => compileGrant(entry) ?? [])
    const gatewayServers = new Set(Object.keys(allow.mcp ?? {}))
    return function checkMcpServers({ facts }) {
      const used = facts.bodies.flatMap((body) => body.mcpServers.map((server) => ({ raw: server.url, url: parseUrl(server.url), enabled: server.enabled, at: body.at })))
      if (used.length === 0) return nothingToCheck
      const denied: Reason[] = []
      for (const { raw, url, enabled, at } of used) {
        const serverId = gatewayServerId(raw)
        if (serverId !== undefined) {
          if (!gatewayServers.has(serverId)) denied.push({ code: 'mcp-gateway-server-not-granted', detail: nameDetail(serverId === '' ? '' : raw, at) })
          continue
        }
        const covering = url ? grants.filter((grant) => matchesPrefix(grant.prefix, url)) : []
        if (!url || covering.length === 0) denied.push({ code: 'mcp-server-not-granted', detail: nameDetail(url ? shown(url) : '', at) })
        else denied.push(...ungrantedTools(enabled, covering).map((tool) => ({ code: 'mcp-tool-not-granted' as const, detail: nameDetail(`${tool} on ${shown(url)}`, at) })))
      }
      return verdict([{ code: 'mcp-server-granted', detail: listDetail(used.map(({ raw, url }) => (gatewayServerId(raw) !== undefined ? raw : url ? shown(url) : ''))) }], denied)
    }
  },
}

/** The enabled tools no covering entry grants; `every tool` stands for an open-ended set. */
function ungrantedTools(enabled: EnabledTools, covering: readonly ServerGrant[]): string[] {
  if (covering.some((grant) => grant.everyTool)) return []
  if (enabled.all) return ['every tool (the toolset enables tools by default)']
  return enabled.names.filter((tool) => tool === '' || !covering.some((grant) => grant.tools.some((match) => match(tool)))).map((tool) => tool || '(missing or malformed)')
}

const shown = (url: URL) => `${url.origin}${url.pathname}`

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}
