import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

/** A plain MCP server built with the SDK (stateless streamable HTTP) that records who called it. */
export interface McpTestServer {
  readonly url: string
  /** The Authorization header of every HTTP request, in order. */
  readonly authorizations: (string | undefined)[]
  /** Tool calls it ran: name and arguments. */
  readonly calls: Array<{ name: string; args: unknown }>
  close(): Promise<void>
}

/** Tools: `search_issues {query}` and `delete_repo {name}`; `requiredBearer` set: other credentials get 401. */
export async function startMcpTestServer(options: { requiredBearer?: string } = {}): Promise<McpTestServer> {
  const authorizations: (string | undefined)[] = []
  const calls: Array<{ name: string; args: unknown }> = []
  const build = () => {
    const server = new McpServer({ name: 'test-server', version: '1.0.0' })
    server.registerTool('search_issues', { description: 'Search issues', inputSchema: { query: z.string() } }, async (args) => {
      calls.push({ name: 'search_issues', args })
      return { content: [{ type: 'text', text: `found 2 issues for ${args.query}` }] }
    })
    server.registerTool('delete_repo', { description: 'Delete a repository', inputSchema: { name: z.string() } }, async (args) => {
      calls.push({ name: 'delete_repo', args })
      return { content: [{ type: 'text', text: `deleted ${args.name}` }] }
    })
    return server
  }
  const http = createServer((req, res) => {
    authorizations.push(req.headers.authorization)
    if (options.requiredBearer !== undefined && req.headers.authorization !== `Bearer ${options.requiredBearer}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}')
      return
    }
    void (async () => {
      const body = await readJson(req)
      const server = build()
      const transport = new StreamableHTTPServerTransport({})  // no sessionIdGenerator: stateless
      res.on('close', () => {
        void transport.close()
        void server.close()
      })
      await server.connect(transport)
      await transport.handleRequest(req, res, body)
    })()
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    calls,
    close: () => new Promise((resolve) => {
      http.closeAllConnections()
      http.close(() => resolve())
    }),
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString()
  return text === '' ? undefined : (JSON.parse(text) as unknown)
}
