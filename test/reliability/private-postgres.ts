/**
 * A private PostgreSQL server for one test file: initdb into a temporary directory and pg_ctl on a
 * free loopback port, so a test can stop and restart *its* database while traffic flows without
 * touching the machine's shared cluster (other suites use that one). PostgreSQL refuses to run as
 * root, so under root every command runs as the `postgres` user through `runuser`.
 *
 * A detached watchdog stops the server and removes the directory if the test process dies
 * without cleaning up, so no postgres process outlives the run.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './helpers.js'

const run = promisify(execFile)

export const POSTGRES_ROOT = '/usr/lib/postgresql'

export type PrivatePostgresSupport =
  | { readonly ok: true; readonly bin: string; readonly runAs: string | undefined }
  | { readonly ok: false; readonly reason: string }

/** Whether initdb/pg_ctl can be used here (cheap: no process is started). */
export function privatePostgresSupport(): PrivatePostgresSupport {
  const versions = existsSync(POSTGRES_ROOT) ? readdirSync(POSTGRES_ROOT).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  const bin = versions.map((v) => join(POSTGRES_ROOT, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')))
  if (bin === undefined) return { ok: false, reason: `initdb/pg_ctl not found under ${POSTGRES_ROOT}/<version>/bin` }
  if (process.getuid?.() !== 0) return { ok: true, bin, runAs: undefined }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p))
  if (runuser === undefined) return { ok: false, reason: 'running as root and runuser is missing (PostgreSQL refuses to run as root)' }
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
  } catch {
    return { ok: false, reason: 'running as root and there is no postgres user to run PostgreSQL as' }
  }
  return { ok: true, bin, runAs: 'postgres' }
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication). */
  readonly url: string
  readonly port: number
  /** False between stop() and start(). */
  readonly running: boolean
  /** pg_ctl stop (`fast` disconnects clients and shuts down cleanly; `immediate` is a crash). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  /** pg_ctl start on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>
  /** Stops it (if running) and removes every file. */
  destroy(): Promise<void>
  /** The server log, for failure messages. */
  log(): string
}

export async function startPrivatePostgres(support: Extract<PrivatePostgresSupport, { ok: true }>): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-pg-'))
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const as = (command: string, args: string[]): [string, string[]] =>
    support.runAs === undefined ? [join(support.bin, command), args] : ['runuser', ['-u', support.runAs, '--', join(support.bin, command), ...args]]
  if (support.runAs !== undefined) {
    const uid = Number(execFileSync('id', ['-u', support.runAs]).toString().trim())
    const gid = Number(execFileSync('id', ['-g', support.runAs]).toString().trim())
    chownSync(dir, uid, gid)
  }
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${[...as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])].flat().join(' ')} >/dev/null 2>&1; rm -rf '${dir}'`],
    { detached: true, stdio: 'ignore' },
  )
  watchdog.unref()
  const port = await freePort()
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40`
  const exec = async (command: string, args: string[]) => {
    const [file, argv] = as(command, args)
    await run(file, argv, { timeout: 60_000 })
  }
  const start = () => exec('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', '-o', options, 'start'])
  let running = false
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4_000) : '')
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
    await start()
    running = true
  } catch (error) {
    watchdog.kill()
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`private PostgreSQL did not start: ${(error as Error).message.slice(0, 500)}`)
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    log,
    get running() {
      return running
    },
    async stop(mode = 'fast') {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'])
      running = false
    },
    async start() {
      await start()
      running = true
    },
    async destroy() {
      if (running) await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined)
      running = false
      rmSync(dir, { recursive: true, force: true })
      if (watchdog.pid !== undefined) {
        try {
          process.kill(-watchdog.pid)
        } catch {
          // already gone
        }
      }
    },
  }
}
