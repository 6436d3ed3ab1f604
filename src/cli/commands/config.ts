import { z } from 'zod'
import { chooseConfigPath, formatPath, formatProblems, loadConfigFile } from '../../config/load.js'
import { renderConfigReference } from '../../config/reference-doc.js'
import { configSchema } from '../../config/schema.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'

const help = `Usage:
  skillgate config validate [--config F] [--offline] [--json]
      Checks a configuration file: shape and meaning in one run, every problem with its path,
      its line and a hint; exit 1 on any. --offline does not resolve secrets ({ fromEnv },
      { fromFile }), for CI where they are not set; without it they must resolve.
  skillgate config schema [--markdown]
      Prints the JSON Schema (for editor completion), or the configuration reference as Markdown.

The file is --config, else $SKILLGATE_CONFIG, else ./skillgate.yaml, else the bundled example.
`

export async function runConfigCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(help)
    return sub === undefined ? 2 : 0
  }
  if (sub === 'schema') {
    const { values } = parseCommandArgs(rest, { markdown: { type: 'boolean' } })
    if (values.help) return (process.stdout.write(help), 0)
    const markdown = values.markdown === true
    process.stdout.write(markdown ? renderConfigReference(configJsonSchema()) : `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
    return 0
  }
  if (sub !== 'validate') throw new UsageError(`unknown config command "${sub}"`)
  const { values } = parseCommandArgs(rest, { config: { type: 'string', short: 'c' }, offline: { type: 'boolean' }, json: { type: 'boolean' } })
  if (values.help) {
    process.stdout.write(help)
    return 0
  }
  const path = chooseConfigPath(values.config)
  const result = loadConfigFile(path, process.env, { resolveSecrets: values.offline !== true })
  if (values.json) {
    const problems = result.ok ? [] : result.problems.map((p) => ({ ...p, path: formatPath(p.path) }))
    process.stdout.write(`${JSON.stringify({ file: path, valid: result.ok, problems }, null, 2)}\n`)
    return result.ok ? 0 : 1
  }
  if (result.ok) {
    process.stdout.write(`✔ ${path} is valid${values.offline ? ' (offline: secrets not resolved)' : ''}\n`)
    return 0
  }
  process.stdout.write(`${path}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}\n${formatProblems(result.problems)}\n`)
  return 1
}

/** The JSON Schema of what users write (the input side of the zod definition). */
export function configJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'skillgate configuration',
  }
}
