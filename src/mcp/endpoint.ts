import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import { asGatewayError, sendError } from '../errors/to-response.js'
import type { RefusalAggregator } from '../audit/refusals.js'
import type { Masking } from '../masking/rule-masking.js'
import { newRequestId } from '../observability/request-id.js'
import { parseJsonBody } from '../request/json-body.js'
import { clientSessionOf } from '../stages/audit-facts.js'
import { readCredential } from '../stages/authenticate.js'
import type { McpAuthenticator, McpCaller } from './caller.js'
import { readLimitedBody } from './read-body.js'
import type { ToolCallDeps } from './tool-call.js'
import type { EndpointRefusal } from './tool-audit.js'
import type { ToolPolicy } from './tool-policy.js'
import type { McpCredential } from './upstream-credential.js'

/** One configured server as the endpoint uses it. */
export interface McpServerRuntime {
  readonly id: string
  readonly url: string
  readonly credential: McpCredential
  readonly limits: { readonly maxMessage: number; readonly maxResponse: number; readonly timeout: number }
}

export interface McpEndpointDeps extends Pick<ToolCallDeps, 'approvals' | 'audit' | 'limits'> {
  readonly servers: ReadonlyMap<string, McpServerRuntime>
  /** Tried in order; the workload-token one comes last (caller.ts). */
  readonly authenticators: readonly McpAuthenticator[]
  readonly tools: ToolPolicy
  readonly masking: Masking
  /** `iss` → issuer config id, for the audit record's `issuer`. */
  readonly issuerIdOf: (iss: unknown) => string | undefined
  /** Public base URL (no trailing slash) for resource metadata; undefined: from the request's Host. */
  readonly publicBase?: string | undefined
  /** Records a request refused before any tool call; undefined with the audit disabled. */
  readonly recordRefusal?: ((refusal: EndpointRefusal) => Promise<void>) | undefined
  /** Anonymous refusals past a per-address burst are aggregated instead of recorded one by one. */
  readonly refusals?: RefusalAggregator | undefined
  readonly clientAddress: (req: IncomingMessage) => string
}

const protectedResourcePrefix = '/.well-known/oauth-protected-resource'

/**
 * `/mcp/{id}` (issue #19): the gateway is an MCP server to the client (SDK `Server`, stateless
 * streamable HTTP: each POST stands alone) and an MCP client to the configured server, with the
 * gateway's credential. Order: the server exists (404), the caller authenticates (401 pointing at the
 * resource metadata), the body fits (413) and parses (-32700), then each JSON-RPC message is handled
 * on its own — tools/list filtered, tools/call checked, approved, audited and masked. GET and DELETE
 * are answered 405: there are no sessions or server-initiated streams to resume or end.
 */
let session: Promise<typeof import('./session.js')> | undefined

export function createMcpEndpoint(deps: McpEndpointDeps) {
  return async function handleMcp(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const requestId = newRequestId()
    const serverId = path.slice('/mcp/'.length)
    const server = deps.servers.get(serverId)
    let caller: McpCaller | undefined
    try {
      if (server === undefined) throw new GatewayError('GW_NOT_FOUND', { publicDetail: `no MCP server ${JSON.stringify(serverId.slice(0, 64))} is configured` })
      caller = await authenticate(deps, req, serverId, metadataUrl(deps, req, serverId))
      if (!deps.tools.grantsServer(caller.ruleName, serverId)) {
        throw new GatewayError('GW_AUTHZ_TOOL_DENIED', { publicDetail: `rule ${caller.ruleName} grants no tools on MCP server ${serverId} (allow.mcp.${serverId})` })
      }
      if (req.method !== 'POST') throw new GatewayError('GW_METHOD_NOT_ALLOWED', { publicDetail: 'this MCP endpoint is stateless: POST only', headers: { allow: 'POST' } })
      const body = await readLimitedBody(req, server.limits.maxMessage)
      let parsed: unknown
      try {
        parsed = parseJsonBody(body)
      } catch {
        return sendJsonRpcError(res, 400, -32700, 'Parse error: the body is not valid JSON', requestId)
      }
      // The MCP SDK loads with the first call to a configured server, not with every gateway.
      const { serveSession } = await (session ??= import('./session.js'))
      await serveSession(deps, server, caller, req, res, parsed, body.length)
    } catch (error) {
      if (res.headersSent) return void res.destroy()
      const failure = asGatewayError(error)
      await recordRefusal(deps, req, { serverId, method: req.method ?? '', code: failure.code, status: failure.status, caller, issuerId: deps.issuerIdOf(caller?.claims.iss) })
      sendError(res, failure, requestId)
    }
  }
}

/** As `/v1` (audit-trail stage): every refusal recorded, anonymous ones past a burst aggregated per minute. */
async function recordRefusal(deps: McpEndpointDeps, req: IncomingMessage, refusal: EndpointRefusal): Promise<void> {
  // GET (the optional server-to-client stream) and DELETE answered 405 are the protocol's normal
  // negotiation for a stateless server, sent by every streamable-HTTP client: not refusals worth a record.
  if (deps.recordRefusal === undefined || refusal.code === 'GW_METHOD_NOT_ALLOWED') return
  // A 403 comes from a verified token (rule selection): recorded alone, like every refusal with a caller.
  const anonymous = refusal.caller === undefined && refusal.status < 500 && refusal.status !== 403
  if (anonymous && deps.refusals !== undefined && !deps.refusals.admit({ clientAddress: deps.clientAddress(req), code: refusal.code, status: refusal.status })) return
  await deps.recordRefusal(refusal)
}

/** `GET /.well-known/oauth-protected-resource/mcp/{id}` (RFC 9728, MCP authorization): where to get a token. */
export function createResourceMetadata(deps: Pick<McpEndpointDeps, 'servers' | 'publicBase'>, authorizationServers: readonly string[]) {
  return async function serveResourceMetadata(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const serverId = path.slice(`${protectedResourcePrefix}/mcp/`.length)
    if (!deps.servers.has(serverId)) return sendError(res, new GatewayError('GW_NOT_FOUND', { publicDetail: 'no such MCP server' }), newRequestId())
    const body = JSON.stringify({
      resource: `${baseOf(deps, req)}/mcp/${serverId}`,
      authorization_servers: authorizationServers,
      bearer_methods_supported: ['header'],
      resource_name: `skillgate MCP server ${serverId}`,
    })
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
}

async function authenticate(deps: McpEndpointDeps, req: IncomingMessage, serverId: string, metadata: string): Promise<McpCaller> {
  const challenge = `Bearer resource_metadata="${metadata}"`
  try {
    const bearer = readCredential(req.headers)
    const named = req.headers['skillgate-rule']
    // Read as /v1 does (authorize stage); a repeated header arrives joined by Node and names no rule.
    const request = typeof named === 'string' ? { namedRule: named } : {}
    for (const authenticator of deps.authenticators) {
      const caller = await authenticator(bearer, serverId, request)
      if (caller !== undefined) return caller.clientSession !== undefined ? caller : { ...caller, clientSession: clientSessionOf(req) }
    }
    throw new GatewayError('GW_AUTHN_INVALID', { detail: 'no authenticator accepted the bearer' })
  } catch (error) {
    const failure = asGatewayError(error)
    if (failure.status !== 401) throw failure
    // RFC 9728 §5.1: every 401 tells the client where the resource metadata is.
    // RFC 6750 §3.1: no error code when the request carried no credential at all.
    const error_ = failure.code === 'GW_AUTHN_MISSING' ? '' : ', error="invalid_token"'
    const headers = { ...failure.headers, 'www-authenticate': `${challenge}${error_}` }
    throw new GatewayError(failure.code, { ...(failure.publicDetail === undefined ? {} : { publicDetail: failure.publicDetail }), ...(failure.detail === undefined ? {} : { detail: failure.detail }), headers })
  }
}

function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string, requestId: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } })
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'skillgate-request-id': requestId })
  res.end(body)
}

function baseOf(deps: Pick<McpEndpointDeps, 'publicBase'>, req: IncomingMessage): string {
  if (deps.publicBase !== undefined) return deps.publicBase
  const host = typeof req.headers.host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host) ? req.headers.host : 'localhost'
  return `http://${host}`
}

function metadataUrl(deps: McpEndpointDeps, req: IncomingMessage, serverId: string): string {
  return `${baseOf(deps, req)}${protectedResourcePrefix}/mcp/${serverId}`
}

