/**
 * The signing keys of gateway tokens kept in the store (issue #14), sealed under
 * `gatewayTokens.keyEncryption`: every replica and worker signs and verifies with the same keys. One
 * replica rotates (the store checks "still due" and inserts in one locked transaction); every replica
 * re-reads the list every `refreshMs`, so a rotation or an emergency revocation at any replica is
 * followed everywhere within that. On the first start against an empty store, an existing key file
 * is imported so tokens signed before the move keep verifying.
 */
import type { JWK } from 'jose'
import type { GatewayKeyStore, StoredGatewayKey } from '../storage/ports-keys.js'
import { generateRingKey, importRingKey, rereadOnUnknownKid, retainedKeys, type RingKey } from './gateway-token-jwk.js'
import { readKeyFile, type KeyRing } from './gateway-token-keys.js'
import type { KeySealer } from './gateway-token-sealing.js'

/** Signing keys in the store, sealed under `gatewayTokens.keyEncryption` (`GatewayTokensOptions.keyStore`). */
export interface StoredKeysOptions {
  readonly store: GatewayKeyStore
  readonly sealer: KeySealer
  /** How often every process re-reads the keys; default 250 ms (a revocation applies well within 1 s). */
  readonly refreshMs?: number
  /** A key file imported when the store holds no key yet (the node's previous default key file). */
  readonly importFile?: string
  /** A failed re-read (reported once until one succeeds) or rotation; signing goes on with the keys it has. */
  readonly onError?: (error: Error) => void
}

export interface StoreKeyRingOptions extends StoredKeysOptions {
  readonly rotateAfterMs: number
  readonly retainMs: number
  readonly now: () => number
}

const MAX_KEYS = 8
/** An unknown kid re-reads the store at most this often (a forged kid costs one small query per window). */
const RELOAD_COOLDOWN_MS = 100
const ROTATION_RETRY_MS = 60_000

export async function createStoreKeyRing(options: StoreKeyRingOptions): Promise<KeyRing> {
  const { store, now } = options
  const opener = keyOpener(options.sealer)
  let keys: RingKey[] = []
  // Reads may overlap (periodic, on demand, a rotation's answer): only a newer one replaces the keys.
  let started = 0
  let applied = 0
  const apply = (seq: number, next: RingKey[]) => {
    if (seq <= applied || next.length === 0) return
    applied = seq
    keys = next
  }
  let lastError: string | undefined
  // Its own read on demand: a periodic one in flight may have started before the rotation committed.
  const rereadForKid = rereadOnUnknownKid(() => readKeys(), RELOAD_COOLDOWN_MS)
  let reloading: Promise<void> | undefined
  let lastRotationAttempt = Number.NEGATIVE_INFINITY
  let rotating: Promise<void> | undefined

  const due = () => keys[0] === undefined || now() - keys[0].createdAt >= options.rotateAfterMs
  const retained = (list: readonly RingKey[]) => retainedKeys(list, options.retainMs, now(), MAX_KEYS)

  function rotate(): Promise<void> {
    rotating ??= (async () => {
      const fresh = await generateRingKey(now())
      const seq = ++started
      const result = await store.rotate({
        key: opener.seal(fresh),
        onlyIfNewestBefore: new Date(now() - options.rotateAfterMs + 1),
        retainMs: options.retainMs,
      })
      apply(seq, await opener.openAll(result.keys))
      lastError = undefined
    })().finally(() => {
      rotating = undefined
    })
    return rotating
  }

  // Periodic reads never overlap; only on-demand reads count towards the cooldown.
  function reload(): Promise<void> {
    reloading ??= readKeys().finally(() => {
      reloading = undefined
    })
    return reloading
  }

  async function readKeys(): Promise<void> {
    const seq = ++started
    try {
      apply(seq, await opener.openAll(await store.list()))
      lastError = undefined
    } catch (err) {
      const error = err instanceof Error ? err : new Error('gateway signing keys unreadable')
      // Every refresh during an outage: report the first failure, not each one.
      if (lastError === undefined) options.onError?.(error)
      lastError = error.message
    }
  }

  apply(++started, await opener.openAll(await seedFromFile(store, opener, options.importFile)))
  if (due()) await rotate() // at boot a failure is fatal: there is nothing to sign with
  const timer = setInterval(() => void reload(), options.refreshMs ?? 250)
  timer.unref()

  return {
    async signingKey() {
      if (due() && Date.now() - lastRotationAttempt >= ROTATION_RETRY_MS) {
        lastRotationAttempt = Date.now()
        try {
          await rotate()
        } catch (err) {
          const error = err instanceof Error ? err : new Error('rotation failed')
          options.onError?.(error)
          lastError = error.message
        }
      }
      return keys[0] as RingKey
    },
    async verificationKey(kid) {
      const find = () => keys.find((key) => key.kid === kid)?.publicKey
      await rereadForKid(() => find() !== undefined)
      return find()
    },
    knows: (kid) => keys.some((key) => key.kid === kid),
    publicKeys: () => retained(keys).map((key) => ({ ...key.publicJwk })),
    reload,
    status() {
      const current = keys[0] as RingKey
      const base = { kid: current.kid, createdAt: current.createdAt, publishedKeys: retained(keys).length }
      return lastError === undefined ? base : { ...base, lastError }
    },
    close: () => clearInterval(timer),
  }
}

export interface RotateNowOptions {
  readonly store: GatewayKeyStore
  readonly sealer: KeySealer
  readonly retainMs: number
  readonly now: () => number
  /** Drop every earlier key: each live gateway token stops verifying. */
  readonly revokePrevious: boolean
}

/** `skillgate keys rotate --now`: a new signing key at once, whatever the schedule says. */
export async function rotateStoredKeysNow(options: RotateNowOptions): Promise<{ readonly kid: string; readonly kept: number }> {
  const fresh = await generateRingKey(options.now())
  const result = await options.store.rotate({ key: keyOpener(options.sealer).seal(fresh), retainMs: options.retainMs, revokeOthers: options.revokePrevious })
  return { kid: fresh.kid, kept: result.keys.length }
}

/** The store's keys, after importing `importFile` into an empty store. */
async function seedFromFile(store: GatewayKeyStore, opener: KeyOpener, importFile: string | undefined): Promise<StoredGatewayKey[]> {
  const stored = await store.list()
  if (stored.length > 0 || importFile === undefined) return stored
  const fromFile = await readKeyFile(importFile)
  if (fromFile === undefined || fromFile.length === 0) return stored
  return store.seed(fromFile.map((key) => opener.seal(key)))
}

interface KeyOpener {
  seal(key: RingKey): StoredGatewayKey
  /** Opens every stored key (each opened once, then remembered by kid); throws when one does not open. */
  openAll(stored: readonly StoredGatewayKey[]): Promise<RingKey[]>
}

function keyOpener(sealer: KeySealer): KeyOpener {
  const opened = new Map<string, RingKey>()
  const openOne = async (row: StoredGatewayKey): Promise<RingKey> => {
    const known = opened.get(row.kid)
    if (known !== undefined) return known
    let jwk: JWK
    try {
      jwk = JSON.parse(sealer.open(row.kid, row.sealed)) as JWK
    } catch (err) {
      throw new Error(err instanceof SyntaxError ? `gateway signing key ${row.kid} is not a JWK` : (err as Error).message)
    }
    const key = await importRingKey(jwk)
    if (key.kid !== row.kid) throw new Error(`gateway signing key ${row.kid} holds another key`)
    opened.set(key.kid, key)
    return key
  }
  return {
    seal(key) {
      opened.set(key.kid, key)
      return { kid: key.kid, createdAt: new Date(key.createdAt), sealed: sealer.seal(key.kid, JSON.stringify(key.privateJwk)) }
    },
    async openAll(stored) {
      const keys = await Promise.all(stored.map(openOne))
      const live = new Set(keys.map((key) => key.kid))
      for (const kid of opened.keys()) if (!live.has(kid)) opened.delete(kid)
      return keys
    },
  }
}

