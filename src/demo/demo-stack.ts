import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { formatProblems, loadConfigFile } from '../config/load.js'
import { openDevIssuer, type DevIssuer } from '../dev-issuer/dev-issuer.js'
import { startGateway, type Gateway } from '../wiring/gateway.js'
import { startMockUpstream, type MockUpstream } from '../mock-upstream/index.js'
import { createLogger } from '../observability/logger.js'
import { DEMO_AUDIENCE, DEMO_ISSUER, writeDemoConfig, type DemoFiles } from './demo-config.js'

/**
 * Everything the tour runs against, all on 127.0.0.1 in one process: the mock Claude API, a local
 * OIDC issuer (key pair in a fresh temp directory) and the gateway with the demo configuration.
 * `close()` stops them and removes the directory.
 */
export interface DemoStack {
  readonly dir: string
  readonly mock: MockUpstream
  readonly issuer: DevIssuer
  readonly gateway: Gateway
  readonly files: DemoFiles
  readonly logPath: string
  /** The requested port when it was free; otherwise the one the system gave. */
  readonly portNote: string | undefined
  close(): Promise<void>
}

export interface DemoStackOptions {
  /** 0 = any free port. A taken port falls back to a free one. */
  readonly port: number
  /** Delay between the mock's SSE frames: slow enough that a replay visibly streams. */
  readonly frameDelayMs?: number
}

export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const dir = await mkdtemp(join(tmpdir(), 'skillgate-demo-'))
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })]
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  }
  try {
    const mock = await startMockUpstream({ frameDelayMs: options.frameDelayMs ?? 20 })
    cleanups.push(() => mock.close())
    const port = await freePort(options.port)
    const files = await writeDemoConfig({ dir, port: port.port, upstreamUrl: mock.url, upstreamKey: mock.apiKey })
    // The issuer's key pair is created before the gateway starts, so its JWKS file exists at boot.
    const issuer = await openDevIssuer({ issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, jwksFile: files.jwksFile })
    const loaded = loadConfigFile(files.configPath)
    if (!loaded.ok) throw new Error(`the demo configuration is invalid (a bug):\n${formatProblems(loaded.problems)}`)
    const logPath = join(dir, 'gateway.log')
    // Gateway logs go to a file: the terminal belongs to the tour's narration.
    const logger = createLogger({ destination: pino.destination({ dest: logPath, sync: true }) })
    const gateway = await startGateway(loaded.config, { logger, port: port.port })
    cleanups.push(() => gateway.close(1_000))
    return { dir, mock, issuer, gateway, files, logPath, portNote: port.note, close: closeAll }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/** The preferred port when nothing listens on it, else 0 (the system picks). */
async function freePort(preferred: number): Promise<{ port: number; note: string | undefined }> {
  if (preferred === 0) return { port: 0, note: undefined }
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
  return free ? { port: preferred, note: undefined } : { port: 0, note: `port ${preferred} is taken; using a free one` }
}
