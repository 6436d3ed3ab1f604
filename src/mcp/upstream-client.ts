import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { McpCredential } from './upstream-credential.js'

export interface UpstreamLimits {
  /** Most bytes read from the server for one client request, all responses together. */
  readonly maxResponse: number
  /** From the first upstream byte asked for to the last one read. */
  readonly timeout: number
}

/** The gateway's MCP client to one server, for the span of one client request. */
export interface UpstreamSession {
  readonly client: Client
  /** Aborted when the byte cap or the deadline is hit (the reason is a GatewayError), or the client went away. */
  readonly signal: AbortSignal
  /** Ends the upstream session (DELETE when the server gave one) and closes every connection. */
  close(): Promise<void>
}

const clientInfo = { name: 'skillgate', version: '1' }

/**
 * Connects to an upstream MCP server as an SDK client, with the gateway's own credential (never
 * anything from the client: the SDK transport builds its headers from scratch). Every response body
 * goes through a byte counter, and the whole session has one deadline: a server that streams forever
 * or too much is cut off, its connection aborted, and the pending request fails with the reason.
 */
export async function openUpstream(url: string, credential: McpCredential, limits: UpstreamLimits, clientSignal: AbortSignal): Promise<UpstreamSession> {
  const controller = new AbortController()
  const abort = (reason: GatewayError) => {
    if (!controller.signal.aborted) controller.abort(reason)
  }
  const timer = setTimeout(() => abort(new GatewayError('GW_UPSTREAM_TIMEOUT', { publicDetail: `the MCP server did not answer within ${limits.timeout} ms` })), limits.timeout)
  timer.unref()
  const onClientGone = () => abort(new GatewayError('GW_UPSTREAM_STREAM_FAILED', { detail: 'client went away' }))
  clientSignal.addEventListener('abort', onClientGone, { once: true })
  let received = 0
  const bounded = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers)
    const authorization = await credential()
    if (authorization !== undefined) headers.set('authorization', authorization)
    const signals = [controller.signal, ...(init?.signal ? [init.signal] : [])]
    const response = await fetch(input, { ...init, headers, signal: AbortSignal.any(signals) })
    if (response.body === null) return response
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, stream) {
        received += chunk.byteLength
        if (received > limits.maxResponse) {
          const reason = new GatewayError('GW_UPSTREAM_STREAM_FAILED', { publicDetail: `the MCP server sent more than ${limits.maxResponse} bytes` })
          abort(reason)
          stream.error(reason)
          return
        }
        stream.enqueue(chunk)
      },
    })
    return new Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers })
  }
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: bounded })
  const client = new Client(clientInfo, { capabilities: {} })
  const cleanup = () => {
    clearTimeout(timer)
    clientSignal.removeEventListener('abort', onClientGone)
  }
  try {
    await client.connect(transport, { signal: controller.signal, timeout: limits.timeout })
  } catch (error) {
    cleanup()
    abort(new GatewayError('GW_UPSTREAM_UNREACHABLE'))
    throw upstreamFailure(error, controller.signal)
  }
  return {
    client,
    signal: controller.signal,
    async close() {
      cleanup()
      try {
        if (!controller.signal.aborted && transport.sessionId !== undefined) await transport.terminateSession()
      } catch {
        // The session ends on the server's own timeout; nothing the client needs to know.
      }
      abort(new GatewayError('GW_UPSTREAM_STREAM_FAILED', { detail: 'closed' }))
      await client.close().catch(() => undefined)
    },
  }
}

/** The reason an upstream call failed, as a GatewayError: the cap or deadline that cut it, else unreachable. */
export function upstreamFailure(error: unknown, signal: AbortSignal): GatewayError {
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason
  if (error instanceof GatewayError) return error
  return new GatewayError('GW_UPSTREAM_UNREACHABLE', { publicDetail: 'the MCP server failed', detail: error instanceof Error ? error.message : String(error) })
}
