/**
 * Shared pieces of the reliability suite (docs/reliability.md): the Anthropic error shape every
 * refusal must have, SSE reading, a raw upstream for wire-level misbehaviour, a gateway child
 * process from `dist/`, and memory sampling.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { expect } from 'vitest'
import { errorTable } from '../../src/errors/codes.js'

export { setTimeout as sleep } from 'node:timers/promises'

/**
 * The seed comes from the global fast-check configuration (test/setup/fast-check-seed.ts: fixed
 * under CI, `SKILLGATE_FUZZ_SEED` replays a run, fresh otherwise); kept so call sites stay explicit.
 */
export const fuzzSeed: { seed?: number } = {}

export const API_HEADERS = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } as const

/** Every `error.type` the Anthropic API (and so the gateway) may answer with. */
export const ANTHROPIC_ERROR_TYPES: ReadonlySet<string> = new Set([
  'invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'request_too_large',
  'rate_limit_error', 'api_error', 'overloaded_error', 'timeout_error', 'conflict_error',
])

/** The fixed public messages of the gateway's own errors (src/errors/codes.ts). */
export const GATEWAY_MESSAGES: ReadonlySet<string> = new Set(Object.values(errorTable).map((spec) => spec.message))

export interface AnthropicError {
  readonly type: 'error'
  readonly error: { readonly type: string; readonly message: string }
  readonly request_id?: string
}

/** True for `{"type":"error","error":{"type":<known>,"message":<string>},...}`. */
export function isAnthropicError(value: unknown): value is AnthropicError {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { type?: unknown; error?: unknown }
  if (v.type !== 'error' || typeof v.error !== 'object' || v.error === null) return false
  const e = v.error as { type?: unknown; message?: unknown }
  return typeof e.type === 'string' && ANTHROPIC_ERROR_TYPES.has(e.type) && typeof e.message === 'string'
}

/** True when `message` is one of the gateway's fixed messages, possibly with a ": detail". */
export function isGatewayMessage(message: string): boolean {
  return [...GATEWAY_MESSAGES].some((m) => message === m || message.startsWith(`${m}: `))
}

/**
 * Asserts a response is an error the gateway produced: JSON in Anthropic's shape, a fixed gateway
 * message, `request_id` equal to the `skillgate-request-id` header. Returns the parsed body.
 */
export function expectGatewayError(
  res: { readonly status: number; readonly headers: Record<string, string | string[] | undefined> | Headers; readonly body: string },
  expected: { readonly status?: number; readonly type?: string; readonly message?: string } = {},
): AnthropicError {
  const header = (name: string) => (res.headers instanceof Headers ? res.headers.get(name) : res.headers[name]) ?? undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(res.body)
  } catch {
    throw new Error(`status ${res.status}: body is not JSON: ${res.body.slice(0, 200)}`)
  }
  expect(isAnthropicError(parsed), res.body.slice(0, 300)).toBe(true)
  const body = parsed as AnthropicError
  expect(String(header('content-type'))).toMatch(/^application\/json/)
  expect(isGatewayMessage(body.error.message), `a gateway message: ${body.error.message}`).toBe(true)
  expect(body.request_id, 'request_id is the skillgate-request-id header').toBe(header('skillgate-request-id'))
  if (expected.status !== undefined) expect(res.status, res.body).toBe(expected.status)
  if (expected.type !== undefined) expect(body.error.type, res.body).toBe(expected.type)
  if (expected.message !== undefined) expect(body.error.message, res.body).toContain(expected.message)
  return body
}

/** The events of an SSE text, as `{ event, data }` (split on blank lines; LF framing). */
export function sseEvents(text: string): { event: string; data: string }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      let event = 'message'
      const data: string[] = []
      for (const line of frame.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      return { event, data: data.join('\n') }
    })
}

/** The last event must be an `event: error` carrying an Anthropic error; returns it. */
export function expectErrorEvent(text: string, message?: string): AnthropicError {
  const events = sseEvents(text)
  const last = events.at(-1)
  expect(last?.event, text.slice(-400)).toBe('error')
  const body = JSON.parse(last?.data ?? '') as unknown
  expect(isAnthropicError(body), last?.data).toBe(true)
  if (message !== undefined) expect((body as AnthropicError).error.message).toContain(message)
  return body as AnthropicError
}

export interface RawResponse {
  readonly status: number
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

/**
 * One request with node:http (not fetch: it lets tests send any method, header and body, and a
 * response cut mid-body is reported as `error` instead of throwing away the status).
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string; timeoutMs?: number } = {}): Promise<RawResponse & { error?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      const done = (error?: string) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ...(error !== undefined ? { error } : {}) })
      res.on('end', () => done())
      res.on('error', (e: Error) => done(e.message))
      res.on('aborted', () => done('aborted'))
    })
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error('client timeout')))
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface RawUpstream {
  readonly url: string
  /** Requests received (method and path), in order. */
  readonly received: { method: string; path: string; headers: IncomingMessage['headers'] }[]
  close(): Promise<void>
}

/** A node:http server on 127.0.0.1 standing in for the upstream, answering with `handler` verbatim. */
export async function startRawUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<RawUpstream> {
  const sockets = new Set<Socket>()
  const received: RawUpstream['received'] = []
  const server = createServer((req, res) => {
    received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
    req.resume()
    handler(req, res)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

/**
 * A listener that never accepts (its process is blocked) and whose backlog is full: a TCP connect
 * to it hangs, so the gateway's connect timeout is what ends it. Loopback only, no firewall rules.
 */
export async function startBlackholeListener(): Promise<{ url: string; close(): void }> {
  const script = [
    "const s = require('net').createServer()",
    "s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {",
    "  process.stdout.write(String(s.address().port) + '\\n')",
    '  setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000), 20)',
    '})',
  ].join('\n')
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())))
    child.once('exit', () => reject(new Error('blackhole listener exited')))
  })
  await new Promise((r) => setTimeout(r, 150))
  // Fill the accept queue (backlog 1 holds two) so the next SYN is dropped.
  const fillers: Socket[] = []
  for (let i = 0; i < 2; i++) {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    fillers.push(socket)
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve())
      setTimeout(resolve, 500)
    })
  }
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      for (const s of fillers) s.destroy()
      child.kill('SIGKILL')
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The gateway as a child process, from the build output

export const cliPath = join(process.cwd(), 'dist', 'cli', 'main.js')

/** Fails with a clear message when `dist/` is missing. */
export function requireBuild(): void {
  expect(existsSync(cliPath), `the build output ${cliPath} is missing: run "npm run build" first`).toBe(true)
}

export interface ChildGateway {
  readonly url: string
  readonly pid: number
  readonly child: ChildProcess
  /** The last 64 KiB of its stdout and stderr. */
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>
}

export async function startChildGateway(configPath: string, env: Record<string, string> = {}): Promise<ChildGateway> {
  requireBuild()
  const port = await freePort()
  const child = spawn(process.execPath, [cliPath, 'serve', '--config', configPath, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SKILLGATE_LOG_LEVEL: 'warn', ...env },
  })
  let out = ''
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-65_536)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited: number | null | undefined
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exited = code))))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited !== undefined) throw new Error(`gateway exited with ${exited}: ${out}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`gateway did not become ready: ${out}`)
    }
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) break
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    pid: child.pid ?? -1,
    child,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (exited !== undefined) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exit
      clearTimeout(timer)
      return code
    },
  }
}

/** Resident set size of a process in bytes (Linux /proc), or undefined where it cannot be read. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** `skillgate_process_resident_memory_bytes` from a gateway's /metrics. */
export async function residentBytesFromMetrics(url: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const match = /^skillgate_process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text)
  return match?.[1] ? Number(match[1]) : undefined
}

let gcFunction: (() => void) | undefined

/** A full garbage collection in this process (for in-process memory bounds). */
export function collectGarbage(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc')
    gcFunction = runInNewContext('gc') as () => void
  }
  gcFunction()
}

/** Heap plus Buffer memory of this process after a full collection. */
export function liveBytes(): number {
  collectGarbage()
  collectGarbage()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}
