import { bundledConfigPath, chooseConfigPath, formatProblems, loadConfigFile, loadConfigText, type LoadResult } from '../../config/load.js'
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { watchFile, unwatchFile } from 'node:fs'
import type { Logger } from 'pino'
import { startGateway, type Gateway } from '../../wiring/gateway.js'
import { createLogger } from '../../observability/logger.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'
import { superviseWorkers } from '../workers.js'
import { consoleHint } from '../console-hint.js'
import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'

const help = `Usage: skillgate serve [--config F] [--port N] [--workers N]

Runs the gateway. The configuration is --config, else $SKILLGATE_CONFIG, else ./skillgate.yaml,
else the bundled example (config/skillgate.example.yaml). An invalid configuration is reported in
full and the gateway does not start (exit 1).

Signals: SIGTERM/SIGINT stop accepting, let requests and streams in flight finish for up to
listen.drainTimeout, then exit. SIGHUP, or a change of the config file, reloads issuers, rules,
skills and masking without a restart; an invalid new file is refused with every problem logged and
the running configuration is kept. listen, upstream, storage, audit and admin need a restart.

--workers N runs N processes sharing the port (default 1; with NODE_ENV=production, one per CPU).
They share the store, so revocations, approvals, grants and budgets agree; signals are passed on.
`

/**
 * `npm start` on a fresh checkout must run (SPEC §1). The bundled example signs the console in with
 * $SKILLGATE_ADMIN_TOKEN; when that is unset the gateway still starts, without an admin section,
 * and the console hint says how to enable sign-in. Any other file is loaded exactly as written.
 */
export function loadStartConfig(path: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  if (path !== bundledConfigPath || (env.SKILLGATE_ADMIN_TOKEN ?? '') !== '') return loadConfigFile(path, env)
  const doc = parseDocument(readFileSync(path, 'utf8'))
  doc.delete('admin')
  return loadConfigText(doc.toString(), path, env)
}

export async function runServe(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, port: { type: 'string' }, workers: { type: 'string' } })
  if (values.help) {
    process.stdout.write(help)
    return 0
  }
  const workers = workerCount(values.workers)
  const path = chooseConfigPath(values.config)
  const result = loadStartConfig(path)
  if (!result.ok) {
    process.stderr.write(`skillgate: cannot start, ${path} has ${result.problems.length} problem(s):\n${formatProblems(result.problems)}\n`)
    return 1
  }
  const logger = createLogger()
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(workers, logger)
  // A stop signal during start-up (key discovery, migrations) must not wait for the whole grace period.
  let stopEarly: string | undefined
  const early = (signal: string) => () => {
    stopEarly = signal
  }
  const onEarlyTerm = early('SIGTERM')
  const onEarlyInt = early('SIGINT')
  process.once('SIGTERM', onEarlyTerm)
  process.once('SIGINT', onEarlyInt)
  const gateway = await startGateway(result.config, values.port !== undefined ? { logger, port: Number(values.port) } : { logger })
  if (!cluster.isWorker || cluster.worker?.id === 1) process.stderr.write(`${consoleHint(gateway.config, gateway.adminUrl)}\n`)
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      unwatchFile(path)
      logger.info({ signal }, 'draining')
      const finish = (code: number) => {
        // A drained gateway must exit even if a handle lingers (a cluster IPC channel, a client pool).
        setTimeout(() => process.exit(code), 2_000).unref()
        logger.flush(() => {
          cluster.worker?.disconnect()
          resolve(code)
        })
      }
      gateway.close().then(
        () => {
          logger.info('stopped')
          finish(0)
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed')
          finish(1)
        },
      )
    }
    const reload = reloader(path, gateway, logger)
    watchFile(path, { interval: 1_000, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) void reload('file changed')
    })
    process.off('SIGTERM', onEarlyTerm)
    process.off('SIGINT', onEarlyInt)
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => void reload('SIGHUP'))
    if (stopEarly) stop(stopEarly)
  })
}

/** Reloads one at a time; a bad file is refused with every problem logged, the running config kept. */
function reloader(path: string, gateway: Gateway, logger: Logger): (why: string) => Promise<void> {
  let running: Promise<void> = Promise.resolve()
  return (why) =>
    (running = running.then(async () => {
      const result = loadConfigFile(path)
      if (!result.ok) {
        for (const problem of result.problems) logger.error({ path: problem.path.join('.'), line: problem.line, hint: problem.hint }, `config reload refused: ${problem.message}`)
        logger.error({ why, problems: result.problems.length }, 'configuration reload refused; the running configuration stays in force')
        return
      }
      try {
        const { restartNeeded } = await gateway.reload(result.config)
        if (restartNeeded.length > 0) logger.warn({ sections: restartNeeded }, 'these sections changed but apply only after a restart')
      } catch (error) {
        logger.error({ why, detail: (error as Error).message }, 'configuration reload failed; the running configuration stays in force')
      }
    }))
}

function workerCount(flag: string | undefined): number {
  if (flag === undefined) return process.env.NODE_ENV === 'production' ? availableParallelism() : 1
  const n = Number(flag)
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError('--workers takes a whole number from 1 to 256')
  return n
}
