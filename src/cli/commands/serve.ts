import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { watchFile, unwatchFile } from 'node:fs'
import type { Logger } from 'pino'
import { startGateway, type Gateway } from '../../gateway.js'
import { createLogger } from '../../observability/logger.js'
import { parseCommandArgs } from '../args.js'

const help = `Usage: skillgate serve [--config F] [--port N]

Runs the gateway. The configuration is --config, else $SKILLGATE_CONFIG, else ./skillgate.yaml,
else the bundled example (config/skillgate.example.yaml). An invalid configuration is reported in
full and the gateway does not start (exit 1).

Signals: SIGTERM/SIGINT stop accepting, let requests and streams in flight finish for up to
listen.drainTimeout, then exit. SIGHUP, or a change of the config file, reloads issuers, rules,
skills and masking without a restart; an invalid new file is refused with every problem logged and
the running configuration is kept. listen, upstream, storage, audit and admin need a restart.
`

export async function runServe(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, port: { type: 'string' } })
  if (values.help) {
    process.stdout.write(help)
    return 0
  }
  const path = chooseConfigPath(values.config)
  const result = loadConfigFile(path)
  if (!result.ok) {
    process.stderr.write(`skillgate: cannot start, ${path} has ${result.problems.length} problem(s):\n${formatProblems(result.problems)}\n`)
    return 1
  }
  const logger = createLogger()
  const gateway = await startGateway(result.config, values.port !== undefined ? { logger, port: Number(values.port) } : { logger })
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      unwatchFile(path)
      logger.info({ signal }, 'draining')
      gateway.close().then(
        () => {
          logger.info('stopped')
          logger.flush(() => resolve(0))
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed')
          logger.flush(() => resolve(1))
        },
      )
    }
    const reload = reloader(path, gateway, logger)
    watchFile(path, { interval: 1_000, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) void reload('file changed')
    })
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => void reload('SIGHUP'))
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
