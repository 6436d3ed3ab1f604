import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { startGateway } from '../../gateway.js'
import { createLogger } from '../../observability/logger.js'
import { parseCommandArgs } from '../args.js'

const help = `Usage: skillgate serve [--config F] [--port N]

Runs the gateway. The configuration is --config, else $SKILLGATE_CONFIG, else ./skillgate.yaml,
else the bundled example (config/skillgate.example.yaml). An invalid configuration is reported in
full and the gateway does not start (exit 1).

Signals: SIGTERM/SIGINT stop accepting, let requests and streams in flight finish for up to
listen.drainTimeout, then exit.
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
      logger.info({ signal }, 'draining')
      gateway.close().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed')
          resolve(1)
        },
      )
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => logger.warn('SIGHUP: configuration reload is not supported yet; restart to apply changes'))
  })
}
