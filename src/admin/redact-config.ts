import type { Config } from '../config/load.js'
import type { Secret } from '../config/secret-source.js'

export const redacted = '[redacted]'

/**
 * The running configuration as JSON with every secret hidden (SPEC §3 "config (secrets hidden)").
 * Three independent layers, because one missed path would leak a credential:
 * 1. resolved `Secret`s print `[redacted]` by themselves (`toJSON`);
 * 2. secret references in the raw tree (`{ value }`, also `{ fromEnv }`/`{ fromFile }` kept as
 *    they name, not hold, a secret) have any inline `value` replaced;
 * 3. any string that contains the value of a resolved secret, or a URL with a password or a
 *    webhook path (Slack-style URLs are bearer secrets), is replaced as well.
 */
export function redactConfig(config: Config): unknown {
  const tree = JSON.parse(JSON.stringify(config)) as unknown
  const known = secretValues(config)
  return walk(tree, [], known)
}

function walk(node: unknown, path: readonly string[], known: readonly string[]): unknown {
  if (typeof node === 'string') return redactString(node, path, known)
  if (Array.isArray(node)) return node.map((child) => walk(child, path, known))
  if (node === null || typeof node !== 'object') return node
  const object = node as Record<string, unknown>
  const out: Record<string, unknown> = {}
  const secretRef = isSecretRef(object)
  for (const [key, value] of Object.entries(object)) {
    out[key] = secretRef && key === 'value' ? redacted : walk(value, [...path, key], known)
  }
  return out
}

const refKeys = new Set(['fromEnv', 'fromFile', 'value'])
const isSecretRef = (object: Record<string, unknown>): boolean => Object.keys(object).length > 0 && Object.keys(object).every((key) => refKeys.has(key))

function redactString(text: string, path: readonly string[], known: readonly string[]): string {
  if (known.some((secret) => text.includes(secret))) return redacted
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text
  try {
    const url = new URL(text)
    let changed = false
    if (url.password) {
      url.password = 'redacted'
      changed = true
    }
    // Webhook URLs carry their credential in the path or query (Slack, Teams, SIEM collectors).
    if (path.at(-1) === 'url' && path.includes('webhook') && (url.pathname !== '/' || url.search)) {
      return `${url.origin}/${redacted}`
    }
    return changed ? url.toString() : text
  } catch {
    return text
  }
}

/** The revealed values, read here and not kept: only to find an accidental copy in the tree. */
function secretValues(config: Config): string[] {
  const s = config.secrets
  const all: (Secret | undefined)[] = [s.upstreamApiKey, s.upstreamIdentityToken, ...s.adminTokens, ...s.auditSinkSecrets, ...Object.values(s.mcpServers ?? {})]
  // Very short values would match ordinary words; they are still hidden by layers 1 and 2.
  return all.flatMap((secret) => (secret ? [secret.reveal()] : [])).filter((value) => value.length >= 8)
}
