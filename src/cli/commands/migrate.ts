import { chooseConfigPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { openStorage } from '../../storage/open-storage.js'
import { parseCommandArgs } from '../args.js'

const help = `Usage: skillgate migrate [--store URL | --config F] [--json]

Creates or upgrades the store schema (SQLite or PostgreSQL). Safe to run on every deploy and from
several replicas at once: migrations are serialised. The gateway also migrates when it starts.
--json prints {"store":"sqlite"|"postgres","from":N,"to":N}: from = to when nothing was pending.
`

export async function runMigrate(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { store: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } })
  if (values.help) return (process.stdout.write(help), 0)
  let url = values.store
  if (!url) {
    const loaded = loadConfigFile(chooseConfigPath(values.config), process.env, { resolveSecrets: false })
    if (!loaded.ok) {
      process.stderr.write(`${formatProblems(loaded.problems)}\n`)
      return 1
    }
    url = loaded.config.storage.url
  }
  const storage = await openStorage(url)
  try {
    const { from, to } = await storage.migrate()
    if (values.json) process.stdout.write(`${JSON.stringify({ store: storage.kind, from, to })}\n`)
    else process.stdout.write(from === to ? `schema is current (version ${to})\n` : `schema migrated from version ${from} to ${to}\n`)
    return 0
  } finally {
    await storage.close()
  }
}
