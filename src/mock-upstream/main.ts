/**
 * Manual use: `node dist/mock-upstream/main.js [--port 8787] [--host 127.0.0.1] [--api-key KEY]
 * [--frame-delay-ms N] [--federation]`. Prints the URL and API key, runs until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { startMockUpstream } from './index.js'
import type { MockUpstreamOptions } from './index.js'

const USAGE = `usage: mock-upstream [--port N] [--host H] [--api-key KEY] [--frame-delay-ms N] [--federation]
                     [--max-recorded N]\n`

function toInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a non-negative integer`)
  return Number(raw)
}

function parseOptions(argv: string[]): MockUpstreamOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      'frame-delay-ms': { type: 'string' },
      'max-recorded': { type: 'string' },
      federation: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help === true) return 'help'
  const options: MockUpstreamOptions = { port: toInt('port', values.port) ?? 8787 }
  if (values.host !== undefined) options.host = values.host
  if (values['api-key'] !== undefined) options.apiKey = values['api-key']
  const delay = toInt('frame-delay-ms', values['frame-delay-ms'])
  if (delay !== undefined) options.frameDelayMs = delay
  // A long-running manual mock should not grow without bound.
  options.maxRecordedRequests = toInt('max-recorded', values['max-recorded']) ?? 1000
  if (values.federation === true) options.federation = {}
  return options
}

async function main(): Promise<void> {
  let options: MockUpstreamOptions | 'help'
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  if (options === 'help') {
    process.stdout.write(USAGE)
    return
  }
  const mock = await startMockUpstream(options)
  process.stdout.write(`mock upstream listening on ${mock.url}\napi key: ${mock.apiKey}\n`)
  const stop = (): void => {
    void mock.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

void main()
