/**
 * A faithful mock of the Claude API upstream (reference §16), used by tests, the benchmark and
 * `skillgate demo`. It speaks the real wire format (JSON, SSE with `event:` lines, Anthropic error
 * bodies, request-id and rate-limit headers) and records every request byte for byte so tests can
 * assert what a gateway forwarded.
 *
 * Deterministic triggers (full table with examples in README.md):
 *
 * | input                                             | reply                                                            |
 * |---------------------------------------------------|------------------------------------------------------------------|
 * | (nothing special)                                 | text "Hello from the mock upstream." in 3-7 char text_deltas     |
 * | last user text contains `MOCK:PII`                | text with fake email, card, sk-ant key, AWS key, SEC ticket      |
 * | client tool + tool_choice any/tool, or `MOCK:TOOL[:name]` | text, then tool_use (input_json_delta, first ""), stop tool_use |
 * | `thinking` enabled / adaptive                     | thinking block first: thinking_deltas + one signature_delta      |
 * | `container.skills` or a `code_execution_*` tool   | server_tool_use + bash_code_execution_tool_result, container     |
 * | `MOCK:FILE` with code execution                   | the result references a downloadable output file (Files API)     |
 * | `mcp_servers`                                     | mcp_tool_use + mcp_tool_result                                   |
 * | `mcp_servers[]` loopback url + authorization_token | a real MCP call to that URL (connector.ts), its result           |
 * | model `mock-error-<status>` / header `mock-error-status` | that error as JSON (429 retry-after, x-should-retry)      |
 * | header `mock-stream-error-after: N`               | `event: error` (overloaded_error) after N deltas, no message_stop |
 * | header `mock-stream-reset-after: N`               | socket destroyed after N deltas                                  |
 * | header `mock-delay-ms: N`                         | per-frame delay for this request                                 |
 * | header `mock-first-byte-delay-ms: N`              | wait N ms before the response headers                            |
 * | header `mock-reply-text: <percent-encoded>`       | that exact text, in `mock-delta-size` (default 5) char deltas    |
 * | header `mock-gzip: 1` (+ accept-encoding gzip)    | JSON responses gzip-compressed                                   |
 */
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { handleRequest } from './router.js'
import { seedAnthropicSkills } from './skills.js'
import type { MockState, MockUpstream, MockUpstreamOptions } from './types.js'

export type {
  FederationExchange, MockUpstream, MockUpstreamOptions, MultipartSummary, RecordedRequest,
} from './types.js'
export { MOCK_DEFAULT_TEXT, MOCK_PII, MOCK_PII_TEXT } from './reply-content.js'
export { ANTHROPIC_SKILL_LATEST } from './container.js'
export { MOCK_ADVICE_TEXT, MOCK_ADVISOR_OUTPUT_TOKENS, MOCK_COMPACTION_OUTPUT_TOKENS, MOCK_COMPACTION_TEXT } from './iterations.js'

export const DEFAULT_MOCK_API_KEY = 'sk-ant-mock-upstream-key'
const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600

function initialState(options: MockUpstreamOptions): MockState {
  const state: MockState = {
    apiKey: options.apiKey ?? DEFAULT_MOCK_API_KEY,
    frameDelayMs: options.frameDelayMs ?? 0,
    federationTtlSeconds: options.federation === undefined
      ? undefined
      : (options.federation.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS),
    baseUrl: '',
    maxRecorded: options.maxRecordedRequests ?? Number.POSITIVE_INFINITY,
    requests: [],
    exchanges: [],
    tokens: new Map(),
    files: new Map(),
    skills: new Map(),
    batches: new Map(),
    containers: new Map(),
    managed: new Map(),
    sessionEvents: new Map(),
  }
  seedAnthropicSkills(state.skills)
  return state
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const state = initialState(options)
  const server = createServer({ keepAlive: true }, (req, res) => {
    void handleRequest(state, req, res)
  })
  // Longer than typical client pools (undici 4 s, node agent 5 s) so the client closes idle sockets first.
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  server.requestTimeout = 0
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('mock upstream: unexpected server address')
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  state.baseUrl = `http://${urlHost}:${address.port}`
  let closing: Promise<void> | undefined
  return {
    url: state.baseUrl,
    apiKey: state.apiKey,
    requests: state.requests,
    exchanges: state.exchanges,
    reset(): void {
      state.requests.length = 0
      state.exchanges.length = 0
    },
    setFrameDelay(ms: number): void {
      state.frameDelayMs = Math.max(0, ms)
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return closing
    },
  }
}
