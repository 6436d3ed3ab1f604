import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'

/**
 * Real `skillgate serve` processes for the multi-process proofs (issue #14): each gateway in its own
 * working directory with its own copy of one configuration (no shared files), and an in-test load
 * balancer that sends each request to the next backend in turn, on a new connection.
 */
export const cli = join(process.cwd(), 'dist', 'cli', 'main.js')

export interface Balancer {
  readonly url: string
  /** Requests forwarded to each backend, by index. */
  readonly served: number[]
  setBackends(urls: readonly string[]): void
  close(): Promise<void>
}

export async function startBalancer(): Promise<Balancer> {
  let backends: string[] = []
  const served: number[] = []
  let next = 0
  const server: Server = createServer((req, res) => {
    const index = next++ % backends.length
    served[index] = (served[index] ?? 0) + 1
    const target = new URL(req.url ?? '/', backends[index])
    const upstream = request(target, { method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    setBackends(urls) {
      backends = [...urls]
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

export interface GatewayProcess {
  /** Its working directory, holding only its config (and whatever it writes there itself). */
  readonly cwd: string
  readonly configPath: string
  /** Every listen URL it logged (one per worker; workers share one). */
  urls(): string[]
  readonly logs: () => string
  stop(): Promise<number | null>
}

/** Starts `skillgate serve` in a fresh working directory with `config` written there. */
export function startGatewayProcess(config: Record<string, unknown>, args: string[] = []): GatewayProcess {
  const cwd = mkdtempSync(join(tmpdir(), 'skillgate-node-'))
  const configPath = join(cwd, 'skillgate.yaml')
  writeFileSync(configPath, stringify(config))
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--config', configPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKILLGATE_CONFIG: '' } })
  let logs = ''
  child.stdout?.on('data', (d: Buffer) => (logs += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (logs += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return {
    cwd,
    configPath,
    urls: () => logs.split('\n').filter((line) => line.includes('"msg":"skillgate listening"')).map((line) => (JSON.parse(line) as { url: string }).url),
    logs: () => logs,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      const code = await exited
      rmSync(cwd, { recursive: true, force: true })
      return code
    },
  }
}

/** Runs a CLI command in `cwd`; resolves with its exit code and output. */
export function runCli(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}
