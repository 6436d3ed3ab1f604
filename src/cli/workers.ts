import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'

/**
 * The primary of `serve --workers N`: forks N gateway processes that share the listening port
 * (node:cluster), passes SIGHUP on (reload), and on SIGTERM/SIGINT lets every worker drain and
 * waits for all of them. A worker that dies on its own is replaced, with a growing delay so a
 * worker that crashes at start cannot spin the CPU.
 */
export function superviseWorkers(count: number, logger: Logger): Promise<number> {
  let stopping = false
  let restartDelay = 250
  const fork = (): Worker => cluster.fork()
  for (let i = 0; i < count; i++) fork()
  logger.info({ workers: count }, 'skillgate primary started workers')

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    logger.error({ pid: worker.process.pid, code, signal, restartInMs: restartDelay }, 'worker exited; replacing it')
    setTimeout(fork, restartDelay).unref()
    restartDelay = Math.min(restartDelay * 2, 30_000)
  })
  cluster.on('listening', () => {
    restartDelay = 250
  })
  const each = (fn: (worker: Worker) => void) => Object.values(cluster.workers ?? {}).forEach((w) => w && fn(w))
  process.on('SIGHUP', () => each((w) => w.process.kill('SIGHUP')))

  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'stopping workers')
      each((w) => w.process.kill('SIGTERM'))
      const check = () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) logger.flush(() => resolve(0))
      }
      cluster.on('exit', check)
      check()
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
