import { chooseConfigPath, formatProblems, loadConfigFile, type Config } from '../../config/load.js'
import { Secret } from '../../config/secret-source.js'
import { GATEWAY_TOKEN_CLOCK_SKEW_MS } from '../../identity/gateway-token.js'
import { readKeyFile, rotateKeyFileNow } from '../../identity/gateway-token-keys.js'
import { rotateStoredKeysNow } from '../../identity/gateway-token-store-keys.js'
import { openStorage } from '../../storage/open-storage.js'
import type { Storage } from '../../storage/ports.js'
import { gatewayKeysAt } from '../../wiring/gateway-keys.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'

const help = `Usage:
  skillgate keys rotate --now [--revoke-previous] [--config F]
  skillgate keys list [--json] [--config F]

The gateway's own signing keys (gateway tokens). rotate --now signs every new token with a fresh key
at once; the previous keys stay published until their tokens expire. --revoke-previous drops them:
every live gateway token is then refused (401) within a second on every replica and worker, and the
clients exchange their workload tokens again. Keys live where the config says: the store (sealed
under gatewayTokens.keyEncryption), the gatewayTokens.signingKey file, or the default key file.
`

export async function runKeysCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { now: { type: 'boolean' }, 'revoke-previous': { type: 'boolean' }, json: { type: 'boolean' }, config: { type: 'string', short: 'c' } }, true)
  const [action, ...extra] = positionals
  if (values.help || action === undefined) {
    process.stdout.write(help)
    return values.help ? 0 : 2
  }
  if (extra.length > 0 || (action !== 'rotate' && action !== 'list')) throw new UsageError(`unknown keys command "${positionals.join(' ')}"`)
  if (action === 'rotate' && values.now !== true) throw new UsageError('keys rotate needs --now (scheduled rotation is automatic: gatewayTokens.rotateAfter)')
  const loaded = loadConfigFile(chooseConfigPath(values.config), process.env, { resolveSecrets: false })
  if (!loaded.ok) {
    process.stderr.write(`${formatProblems(loaded.problems)}\n`)
    return 1
  }
  const storage = await openStorage(loaded.config.storage.url)
  try {
    await storage.migrate()
    const location = gatewayKeysAt(loaded.config.gatewayTokens.signingKey?.fromFile, keyEncryptionOf(loaded.config), storage)
    if (action === 'list') return await listKeys(location.keyFile, storage, values.json === true)
    const options = { retainMs: loaded.config.gatewayTokens.ttl + GATEWAY_TOKEN_CLOCK_SKEW_MS, now: Date.now, revokePrevious: values['revoke-previous'] === true }
    const result = location.keyStore
      ? await rotateStoredKeysNow({ store: location.keyStore.store, sealer: location.keyStore.sealer, ...options })
      : await rotateKeyFileNow(location.keyFile as string, options)
    const where = location.keyStore ? 'the store' : (location.keyFile as string)
    const revoked = options.revokePrevious ? '; every earlier key was dropped: live gateway tokens are refused within a second' : ''
    process.stdout.write(values.json ? `${JSON.stringify({ ok: true, kid: result.kid, published: result.kept, revokedPrevious: options.revokePrevious })}\n` : `✔ new signing key ${result.kid} in ${where} (${result.kept} published)${revoked}\n`)
    return 0
  } finally {
    await storage.close()
  }
}

/** Only the key-encryption keys are resolved: the command needs no upstream or admin secret. */
function keyEncryptionOf(config: Config): Secret[] {
  const refs = config.gatewayTokens.keyEncryption
  if (refs === undefined) return []
  return (Array.isArray(refs) ? refs : [refs]).map((ref) => Secret.resolve(ref.fromEnv !== undefined ? { fromEnv: ref.fromEnv } : ref.fromFile !== undefined ? { fromFile: ref.fromFile } : { value: ref.value ?? '' }, process.env))
}

async function listKeys(file: string | undefined, storage: Storage, json: boolean): Promise<number> {
  const keys = file === undefined ? await storage.gatewayKeys.list() : ((await readKeyFile(file)) ?? []).map((key) => ({ kid: key.kid, createdAt: new Date(key.createdAt) }))
  const rows = keys.map((key) => ({ kid: key.kid, createdAt: key.createdAt.toISOString() }))
  process.stdout.write(json ? `${JSON.stringify({ keys: rows })}\n` : rows.map((row, i) => `${row.kid}  ${row.createdAt}${i === 0 ? '  (signing)' : ''}\n`).join(''))
  return 0
}
