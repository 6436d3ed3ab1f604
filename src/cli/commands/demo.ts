import { printStillRunning, runTour, startDemoStack } from '../../demo/index.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'

const help = `Usage: skillgate demo [--port N] [--auto-approve] [--exit]

An all-local tour, needing no network and no API key: a mock Claude API, a local OIDC issuer and
the gateway (with the web console) start on 127.0.0.1, then a sample CI job calls a skill:

  1. a request the policy does not allow is denied (403);
  2. the skill call is held for approval: approve it in the console or with the printed
     "skillgate reviews approve" command (or pass --auto-approve);
  3. the approved call streams its answer, with the secrets the mock plants masked;
  4. the audit trail is printed and its hash chain verified.

Then the gateway and the console keep running until Ctrl-C. Everything lives in a temporary
directory that is removed when the demo stops.

Options:
  --port N         the gateway's port (default 8080; a free one if it is taken; 0 = any)
  --auto-approve   approve the review from the tour instead of waiting for you
  --exit           stop after the tour instead of keeping the gateway running
`

export async function runDemoCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { port: { type: 'string' }, 'auto-approve': { type: 'boolean' }, exit: { type: 'boolean' } })
  if (values.help) {
    process.stdout.write(help)
    return 0
  }
  const port = Number(values.port ?? '8080')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port ${values.port} is not a port number`)
  const write = (text: string) => void process.stdout.write(text)
  const stopping = new AbortController()
  const onSignal = () => stopping.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const stack = await startDemoStack({ port })
  try {
    const result = await runTour(stack, { autoApprove: values['auto-approve'] === true, write, signal: stopping.signal }).catch((error: unknown) => {
      if (stopping.signal.aborted) return { ok: false, streamRecordId: null }
      throw error
    })
    if (!result.ok && !stopping.signal.aborted) write('\nThe tour did not go as expected (see the ✗ above).\n')
    if (values.exit !== true && !stopping.signal.aborted) {
      printStillRunning(stack, write)
      await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }))
    }
    return result.ok || stopping.signal.aborted ? 0 : 1
  } finally {
    write('\nStopping the demo…\n')
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await stack.close()
  }
}
