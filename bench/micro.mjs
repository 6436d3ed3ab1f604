/**
 * The micro-costs of `npm run bench` on their own: policy evaluation, token verification (cold and
 * through the verified-token cache) and masking, in this process, against dist/. bench/run.mjs
 * forks this file and receives the results over IPC; run directly it prints the section.
 *
 *   npm run build && node bench/micro.mjs [--quick] [--json]
 */
import { measureMicroCosts } from './lib/micro.mjs'
import { renderMicro } from './lib/report.mjs'

const quick = process.argv.includes('--quick')
const json = process.argv.includes('--json')

if (process.send) {
  // Forked by run.mjs: never outlive it.
  process.on('disconnect', () => process.exit(0))
  measureMicroCosts({ quick }).then(
    (result) => process.send({ type: 'result', result }, () => process.exit(0)),
    (error) => {
      process.stderr.write(`bench micro-costs: ${error?.stack ?? error}\n`)
      process.exit(1)
    },
  )
} else {
  measureMicroCosts({ quick }).then(
    (result) => process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${renderMicro(result).join('\n')}\n`),
    (error) => {
      process.stderr.write(`bench micro-costs: ${error?.stack ?? error}\n`)
      process.exit(1)
    },
  )
}
