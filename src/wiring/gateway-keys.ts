import type { Config } from '../config/load.js'
import type { Secret } from '../config/secret-source.js'
import type { GatewayTokensOptions } from '../identity/gateway-token.js'
import { createKeySealer, decodeKeyEncryptionKey } from '../identity/gateway-token-sealing.js'
import type { Storage } from '../storage/ports.js'
import type { ErrorReports } from './error-reports.js'

/** Where a node kept its keys before they moved to the store; imported into an empty store once. */
export const DEFAULT_SIGNING_KEY_FILE = './data/gateway-signing-key.json'

/**
 * Where the gateway's signing keys live (issue #14): an explicit `signingKey` file as configured;
 * otherwise the store, sealed under `keyEncryption`; otherwise (SQLite only, one node) the default
 * 0600 key file. PostgreSQL without either is refused by the config check; refused here too, so no
 * path can start replicas that each sign with their own key.
 */
export function gatewayKeysFor(config: Config, storage: Storage, reports: ErrorReports): Pick<GatewayTokensOptions, 'keyFile' | 'keyStore'> {
  const location = gatewayKeysAt(config.gatewayTokens.signingKey?.fromFile, config.secrets.keyEncryption, storage)
  if (location.keyStore === undefined) return location
  return { keyStore: { ...location.keyStore, onError: (error) => reports.storage(error, { op: 'gateway-keys' }) } }
}

/** `gatewayKeysFor` from its parts (`keys rotate` resolves only the key-encryption keys). */
export function gatewayKeysAt(file: string | undefined, keys: readonly Secret[], storage: Storage): Pick<GatewayTokensOptions, 'keyFile' | 'keyStore'> {
  if (file !== undefined) return { keyFile: file }
  if (keys.length > 0) {
    const sealer = createKeySealer(keys.map((secret) => decodeKeyEncryptionKey(secret.reveal())))
    return { keyStore: { store: storage.gatewayKeys, sealer, importFile: DEFAULT_SIGNING_KEY_FILE } }
  }
  if (storage.kind === 'postgres') {
    throw new Error('a PostgreSQL store needs gatewayTokens.keyEncryption (openssl rand -base64 32) or a signingKey file shared by every replica')
  }
  return { keyFile: DEFAULT_SIGNING_KEY_FILE }
}
