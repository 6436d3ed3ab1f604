import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openGatewayTokens, type GatewayTokens } from '../../src/identity/gateway-token.js'
import { openRevocationCache, type RevocationCache } from '../../src/identity/revocation-cache.js'
import { openCapabilities, type Capabilities } from '../../src/mcp/capability.js'
import { openStorage } from '../../src/storage/index.js'
import type { Storage } from '../../src/storage/ports.js'

export const PUBLIC_URL = 'https://gw.example'

/** Real keys, a real SQLite revocation store and cache: what the gateway wires, minus HTTP. */
export interface CapabilityWorld {
  readonly caps: Capabilities
  readonly tokens: GatewayTokens
  readonly storage: Storage
  readonly revocations: RevocationCache
  close(): Promise<void>
}

export async function openCapabilityWorld(): Promise<CapabilityWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-connector-'))
  const tokens = await openGatewayTokens({ keyFile: join(dir, 'keys.json'), issuer: PUBLIC_URL, ttlMs: 300_000 })
  const storage = await openStorage(`sqlite:${join(dir, 'store.db')}`)
  await storage.migrate()
  const revocations = await openRevocationCache(storage.revocations, { pollMs: 60_000 })
  const caps = openCapabilities({ keys: tokens.keys, issuer: tokens.issuer, publicUrl: PUBLIC_URL, revocations, revocationStore: storage.revocations })
  return {
    caps,
    tokens,
    storage,
    revocations,
    async close() {
      revocations.close()
      tokens.close()
      await storage.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
