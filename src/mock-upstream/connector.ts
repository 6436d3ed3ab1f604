/**
 * The mock playing Anthropic's MCP connector (claude-api-2026.md §3): when a Messages body names an
 * `mcp_servers[]` entry with an http(s) loopback `url` and an `authorization_token`, the mock really connects
 * to it, as Anthropic's infrastructure does, with the official SDK client over streamable HTTP and
 * `Authorization: Bearer <token>`, lists the tools, calls one and answers `mcp_tool_use` +
 * `mcp_tool_result`. That is how a test sees the gateway's connector rewrite end to end: the
 * rewritten URL and the capability token are exercised by a real MCP client.
 *
 * Which tool: `MOCK:MCP:<tool>` in the last user message (called even when it is not listed, so a
 * test can watch a refusal), else the first listed one. Its arguments come from its input schema
 * like the client-tool trigger's. A refused or failed call becomes `is_error: true` with the message.
 * Without such an entry the canned `echo` reply (reply-plan.ts) is kept.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { isRecord } from './http-io.js'
import { newId } from './ids.js'
import { sampleToolInput, splitJson } from './reply-content.js'
import type { PlannedBlock } from './reply-plan.js'

const CALL_TIMEOUT_MS = 10_000
const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]'])
const TOOL_MARKER = /MOCK:MCP:([A-Za-z0-9_.-]{1,128})/

interface ConnectorServer {
  readonly name: string
  readonly url: URL
  readonly token: string
}

/** The first entry the connector would authenticate to, or undefined (then the canned reply stays). */
export function connectorServerOf(body: Record<string, unknown>): ConnectorServer | undefined {
  const servers = Array.isArray(body.mcp_servers) ? (body.mcp_servers as unknown[]) : []
  for (const entry of servers) {
    if (!isRecord(entry) || typeof entry.url !== 'string' || typeof entry.authorization_token !== 'string') continue
    if (!URL.canParse(entry.url)) continue
    const url = new URL(entry.url)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue
    // Loopback only: a mock never reaches out of the machine (tests talk to 127.0.0.1 only).
    if (!LOOPBACK.has(url.hostname)) continue
    return { name: typeof entry.name === 'string' ? entry.name : 'mcp', url, token: entry.authorization_token }
  }
  return undefined
}

/** The connector's blocks for this body, or undefined when no entry carries a URL and a token. */
export async function connectorBlocks(body: Record<string, unknown>, userText: string, pii: boolean): Promise<PlannedBlock[] | undefined> {
  const server = connectorServerOf(body)
  if (server === undefined) return undefined
  const id = newId('mcptoolu')
  const outcome = await callOnce(server, TOOL_MARKER.exec(userText)?.[1], pii)
  const input = outcome.input
  return [
    { kind: 'input', block: { type: 'mcp_tool_use', id, name: outcome.tool, server_name: server.name, input: {} }, input, fragments: splitJson(JSON.stringify(input)) },
    { kind: 'whole', block: { type: 'mcp_tool_result', tool_use_id: id, is_error: outcome.isError, content: outcome.content } },
  ]
}

interface CallOutcome {
  readonly tool: string
  readonly input: Record<string, unknown>
  readonly isError: boolean
  readonly content: Array<{ type: 'text'; text: string }>
}

async function callOnce(server: ConnectorServer, named: string | undefined, pii: boolean): Promise<CallOutcome> {
  const client = new Client({ name: 'mock-anthropic-mcp-connector', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { authorization: `Bearer ${server.token}` } } })
  let tool = named ?? '(none)'
  let input: Record<string, unknown> = {}
  try {
    await client.connect(transport, { timeout: CALL_TIMEOUT_MS })
    const { tools } = await client.listTools(undefined, { timeout: CALL_TIMEOUT_MS })
    const chosen = named === undefined ? tools[0] : tools.find((candidate) => candidate.name === named)
    tool = named ?? chosen?.name ?? '(none)'
    if (tool === '(none)') return { tool, input, isError: true, content: [{ type: 'text', text: 'the MCP server lists no tools' }] }
    input = chosen === undefined ? {} : sampleToolInput({ input_schema: chosen.inputSchema }, pii)
    const result = await client.callTool({ name: tool, arguments: input }, undefined, { timeout: CALL_TIMEOUT_MS })
    const content = Array.isArray(result.content) ? (result.content as unknown[]) : []
    const texts = content.flatMap((block) => (isRecord(block) && block.type === 'text' && typeof block.text === 'string' ? [{ type: 'text' as const, text: block.text }] : []))
    return { tool, input, isError: result.isError === true, content: texts }
  } catch (error) {
    return { tool, input, isError: true, content: [{ type: 'text', text: `MCP call failed: ${(error as Error).message}` }] }
  } finally {
    await client.close().catch(() => undefined)
  }
}
