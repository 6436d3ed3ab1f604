import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'

/** The credential the gateway holds for the fixture; clients never have it. */
export const UPSTREAM_BEARER = 'upstream-mcp-secret-0123456789abcdef'

export interface UpstreamFixture {
  readonly url: string
  /** `/flood`: answers every POST with an event stream that never ends. */
  readonly floodUrl: string
  /** Every Authorization header `/mcp` received, in order (undefined when none). */
  readonly authorizations: (string | undefined)[]
  /** Every tools/call that reached the server: name and arguments. */
  readonly calls: { name: string; arguments: Record<string, unknown> }[]
  close(): Promise<void>
}

const tools = [
  { name: 'echo', description: 'Echoes its text, with a customer e-mail in the result', inputSchema: { type: 'object' as const, properties: { text: { type: 'string' } } } },
  { name: 'deploy', description: 'Deploys (needs a human)', inputSchema: { type: 'object' as const, properties: { env: { type: 'string' } } } },
  { name: 'fail', description: 'Fails with a JSON-RPC error naming a customer', inputSchema: { type: 'object' as const, properties: {} } },
  { name: 'drop_database', description: 'Never granted', inputSchema: { type: 'object' as const, properties: {} } },
]

/**
 * An upstream MCP server built with the official SDK (stateless streamable HTTP), for the gateway's
 * e2e tests. It refuses any request without the gateway's bearer (so a client credential passed
 * through would fail), and records what reached it so tests can assert what was never forwarded.
 */
export async function startUpstreamFixture(): Promise<UpstreamFixture> {
  const authorizations: (string | undefined)[] = []
  const calls: { name: string; arguments: Record<string, unknown> }[] = []
  const floods = new Set<IncomingMessage>()
  const http: HttpServer = createServer((req, res) => {
    if (req.url === '/flood') {
      floods.add(req)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const timer = setInterval(() => res.write(`: ${'x'.repeat(1024)}\n\n`), 5)
      res.on('close', () => (clearInterval(timer), floods.delete(req)))
      return
    }
    authorizations.push(req.headers.authorization)
    if (req.headers.authorization !== `Bearer ${UPSTREAM_BEARER}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}')
      return
    }
    const server = new Server({ name: 'fixture', version: '1' }, { capabilities: { tools: {} } })
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }))
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const args = request.params.arguments ?? {}
      calls.push({ name: request.params.name, arguments: args })
      // A plain error with a code: the SDK sends its message as is (McpError would prefix it).
      if (request.params.name === 'fail') throw Object.assign(new Error('no ticket for alice.smith@example.com'), { code: -32050 })
      if (request.params.name === 'echo') {
        return {
          content: [{ type: 'text', text: `echo: ${String(args.text)}; contact alice.smith@example.com` }],
          structuredContent: { echoed: String(args.text), owner: { email: 'alice.smith@example.com' } },
        }
      }
      return { content: [{ type: 'text', text: `${request.params.name} done with ${JSON.stringify(args)}` }] }
    })
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true })
    res.on('close', () => void server.close())
    void server.connect(transport).then(() => transport.handleRequest(req, res))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    floodUrl: `http://127.0.0.1:${port}/flood`,
    authorizations,
    calls,
    async close() {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
