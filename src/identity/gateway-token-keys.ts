/**
 * The signing keys of gateway tokens: a private JWKS file, newest key first, shared by every process
 * of one node (`--workers N`). Created when missing (0600, write-then-rename), rotated after
 * `rotateAfterMs` under an O_EXCL lock file so two processes never rotate at once, and re-read when a
 * sibling rotated it. File format (a valid JWKS, so an operator can provision one):
 * `{"keys":[{"kty":"EC","crv":"P-256","x","y","d","kid","alg":"ES256","use":"sig","created_at":<s>}]}`.
 * The key at index i ≥ 1 was retired when key i−1 was created and stays published until every token
 * it signed has expired.
 */
import { randomBytes } from 'node:crypto'
import { unwatchFile, watchFile } from 'node:fs'
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { CryptoKey, JWK } from 'jose'
import { generateRingKey, importRingKey, rereadOnUnknownKid, retainedKeys, type RingKey } from './gateway-token-jwk.js'

export type { RingKey } from './gateway-token-jwk.js'

export interface KeyRingStatus {
  readonly kid: string
  /** ms since epoch. */
  readonly createdAt: number
  readonly publishedKeys: number
  /** Last failed rotation or reload (e.g. a read-only key file); signing continues with the current key. */
  readonly lastError?: string
}

export interface KeyRingOptions {
  readonly path: string
  readonly rotateAfterMs: number
  readonly retainMs: number
  readonly now: () => number
}

export interface KeyRing {
  /** The current key; rotates first when it is due (a failed rotation keeps the current key). */
  signingKey(): Promise<RingKey>
  /** Re-reads the keys once (at most every second) when `kid` is unknown: a sibling may have rotated. */
  verificationKey(kid: string): Promise<CryptoKey | undefined>
  /** Whether `kid` is in the ring now (no reload): a remembered verification is only good while it is. */
  knows(kid: string): boolean
  publicKeys(): JWK[]
  reload(): Promise<void>
  status(): KeyRingStatus
  /** Stops following the keys' source (file watch, store poll). */
  close(): void
}

const MAX_KEYS = 8
const RELOAD_COOLDOWN_MS = 1_000
const ROTATION_RETRY_MS = 60_000
const LOCK_STALE_MS = 30_000
const LOCK_WAIT_MS = 10_000

export async function createKeyRing(options: KeyRingOptions): Promise<KeyRing> {
  const { path, now } = options
  let keys: RingKey[] = []
  let lastError: string | undefined
  // Rate limits use the real clock: an injected (test) clock may stand still.
  const rereadForKid = rereadOnUnknownKid(() => reload(), RELOAD_COOLDOWN_MS)
  let lastRotationAttempt = Number.NEGATIVE_INFINITY
  let rotating: Promise<void> | undefined

  const due = () => keys[0] === undefined || now() - keys[0].createdAt >= options.rotateAfterMs
  // Key i ≥ 1 signed tokens until key i−1 was created; keep it until those tokens have expired.
  const retained = (list: readonly RingKey[]) => retainedKeys(list, options.retainMs, now(), MAX_KEYS)

  function rotate(): Promise<void> {
    rotating ??= withFileLock(`${path}.lock`, async () => {
      const onDisk = (await readKeyFile(path)) ?? []
      const current = onDisk[0]
      if (current !== undefined && now() - current.createdAt < options.rotateAfterMs) {
        keys = onDisk // a sibling process rotated while we waited for the lock
        return
      }
      const next = retained([await generateRingKey(now()), ...onDisk])
      await writeAtomic(path, JSON.stringify({ keys: next.map((key) => key.privateJwk) }, null, 2))
      keys = next
      lastError = undefined
    }).finally(() => {
      rotating = undefined
    })
    return rotating
  }

  async function reload(): Promise<void> {
    try {
      const loaded = await readKeyFile(path)
      if (loaded !== undefined && loaded.length > 0) keys = loaded
    } catch (err) {
      lastError = err instanceof Error ? err.message : 'key file unreadable'
    }
  }

  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  keys = (await readKeyFile(path)) ?? []
  if (due()) await rotate() // at boot a failure is fatal: there is nothing to sign with
  const onFileChange = () => void reload()
  // Another process (a `--workers` sibling) may rotate the file: follow it like file JWKS do.
  watchFile(path, { persistent: false, interval: 1_000 }, onFileChange)

  return {
    async signingKey() {
      if (due() && Date.now() - lastRotationAttempt >= ROTATION_RETRY_MS) {
        lastRotationAttempt = Date.now()
        try {
          await rotate()
        } catch (err) {
          // e.g. a read-only mounted key file: keep signing with the current key, report it.
          lastError = err instanceof Error ? err.message : 'rotation failed'
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
    close: () => unwatchFile(path, onFileChange),
  }
}

/**
 * `skillgate keys rotate --now` on a key file: a new key first, under the rotation lock; processes
 * following the file (`watchFile`, 1 s) pick it up. With `revokePrevious` every other key is dropped.
 */
export async function rotateKeyFileNow(path: string, options: { readonly retainMs: number; readonly now: () => number; readonly revokePrevious: boolean }): Promise<{ readonly kid: string; readonly kept: number }> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  return withFileLock(`${path}.lock`, async () => {
    const fresh = await generateRingKey(options.now())
    const onDisk = options.revokePrevious ? [] : ((await readKeyFile(path)) ?? [])
    const next = retainedKeys([fresh, ...onDisk], options.retainMs, options.now(), MAX_KEYS)
    await writeAtomic(path, JSON.stringify({ keys: next.map((key) => key.privateJwk) }, null, 2))
    return { kid: fresh.kid, kept: next.length }
  })
}

/** undefined when the file does not exist; throws (without key material) when it is not a key set. */
export async function readKeyFile(path: string): Promise<RingKey[] | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`gateway signing key file unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error('gateway signing key file is not JSON')
  }
  const list = (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list) || list.length === 0) throw new Error('gateway signing key file has no "keys"')
  return Promise.all(list.map((jwk) => importRingKey(jwk as JWK)))
}

/** Write-then-rename: readers (siblings, `watchFile`) see the old or the new file, never half of one. */
async function writeAtomic(path: string, data: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temp, data, { mode: 0o600, flag: 'wx' })
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw err
  }
}

/** An O_EXCL lock file serialises rotation across processes; a lock older than 30 s is stale. */
async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      await (await open(lockPath, 'wx', 0o600)).close()
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const info = await stat(lockPath).catch(() => undefined)
      // A crashed holder leaves its lock behind: break it once it is clearly stale.
      if (info !== undefined && Date.now() - info.mtimeMs > LOCK_STALE_MS) await unlink(lockPath).catch(() => undefined)
      if (Date.now() > deadline) throw new Error('gateway signing key file is locked by another process')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  try {
    return await fn()
  } finally {
    await unlink(lockPath).catch(() => undefined)
  }
}
