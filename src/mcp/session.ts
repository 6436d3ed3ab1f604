import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type ListToolsResult } from '@modelcontextprotocol/sdk/types.js'
import type { McpCaller } from './caller.js'
import type { McpEndpointDeps, McpServerRuntime } from './endpoint.js'
import { maskedError, toJsonRpcError, toolCallHandler } from './tool-call.js'
import { openUpstream, type UpstreamSession } from './upstream-client.js'

/**
 * One client POST to `/mcp/{id}`, after the endpoint found the server and authenticated the caller:
 * the SDK's stateless `Server` answers it, with `tools/list` filtered and `tools/call` governed
 * (tool-call.ts). Apart from endpoint.ts so the SDK loads only when a configured server is called.
 */
export async function serveSession(deps: McpEndpointDeps, server: McpServerRuntime, caller: McpCaller, req: IncomingMessage, res: ServerResponse, parsed: unknown, requestBytes: number): Promise<void> {
  const clientGone = new AbortController()
  res.once('close', () => clientGone.abort())
  let upstream: Promise<UpstreamSession> | undefined
  // One upstream session per client request, opened on first need (a batch shares it), so a call held
  // for approval does not spend the upstream deadline.
  const connect = () => (upstream ??= openUpstream(server.url, server.credential, server.limits, clientGone.signal))
  const mcp = new Server({ name: `skillgate/${server.id}`, version: '1' }, { capabilities: { tools: {} } })
  mcp.setRequestHandler(ListToolsRequestSchema, async (request, extra): Promise<ListToolsResult> => {
    let session: UpstreamSession | undefined
    let listed: ListToolsResult
    try {
      session = await connect()
      listed = await session.client.listTools(request.params, { signal: AbortSignal.any([session.signal, extra.signal]), timeout: server.limits.timeout })
    } catch (error) {
      throw maskedError(toJsonRpcError(error, session?.signal), deps.masking, caller.ruleName)
    }
    return { ...listed, tools: listed.tools.filter((tool) => deps.tools.lists(caller, server.id, tool.name)) }
  })
  const callTool = toolCallHandler({ ...deps, server: server.id, caller, issuerId: deps.issuerIdOf(caller.claims.iss), requestBytes, upstream: connect, timeout: server.limits.timeout })
  // The client hanging up ends a call held for approval too (the SDK's signal only follows cancellations).
  mcp.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => callTool(request.params, AbortSignal.any([extra.signal, clientGone.signal])))
  // Stateless (no sessionIdGenerator): each POST stands alone; answers are JSON, not an SSE stream.
  const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true })
  try {
    await mcp.connect(transport)
    await transport.handleRequest(req, res, parsed)
  } finally {
    await mcp.close().catch(() => undefined)
    if (upstream !== undefined) await upstream.then((session) => session.close()).catch(() => undefined)
  }
}

