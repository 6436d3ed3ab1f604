/**
 * A JWKS JSON file per issuer (air-gapped or pinned setups: Claude WIF inline JWKS, Envoy
 * `local_jwks`, Vault `jwt_validation_pubkeys`; workload-identity.md §3). The file is read
 * asynchronously and re-read when `fs.watchFile` sees it change, so rotation needs no restart and
 * no verification ever does file I/O. A bad or missing new version keeps the previous keys and turns
 * the issuer `degraded`.
 */
import { stat, readFile } from 'node:fs/promises'
import { unwatchFile, watchFile, type Stats } from 'node:fs'
import type { FlattenedJWSInput, JWSHeaderParameters } from 'jose'
import { createCheckedLocalSet, KeyLoadTracker, type IssuerKeySet } from './key-set.js'
import { KeySourceError } from './fetch-policy.js'

export const MAX_JWKS_FILE_BYTES = 1024 * 1024
/** Polling interval of `fs.watchFile`; polling works on every file system, events do not. */
export const JWKS_FILE_POLL_MS = 1000

export function createFileKeySet(issuerId: string, path: string): IssuerKeySet {
  const tracker = new KeyLoadTracker(issuerId)
  let loading: Promise<void> | undefined
  let attempted = false

  async function readKeys(): Promise<void> {
    try {
      const info = await stat(path)
      if (info.size > MAX_JWKS_FILE_BYTES) throw new KeySourceError('JWKS file too large')
      const text = await readFile(path, 'utf8')
      tracker.succeeded(createCheckedLocalSet(JSON.parse(text) as unknown, 'JWKS file'))
    } catch (err) {
      // No path in the detail: health output may be exposed on /readyz.
      tracker.failed(err instanceof KeySourceError ? err.message : 'JWKS file unreadable or not JSON')
    }
  }

  /** One load at a time; a change during a load triggers another one after it. */
  function load(): Promise<void> {
    attempted = true
    const tracked: Promise<void> = (loading ?? Promise.resolve()).then(readKeys).finally(() => {
      if (loading === tracked) loading = undefined
    })
    loading = tracked
    return tracked
  }

  function onChange(current: Stats, previous: Stats): void {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) {
      void load()
    }
  }
  watchFile(path, { persistent: false, interval: JWKS_FILE_POLL_MS }, onChange)

  async function getKey(header?: JWSHeaderParameters, token?: FlattenedJWSInput) {
    if (!attempted) await load()
    else if (loading !== undefined && tracker.status().state === 'unavailable') await loading
    return tracker.lastGood()(header, token)
  }

  return {
    getKey,
    status: () => tracker.status(),
    warmUp: () => load(),
    close: () => unwatchFile(path, onChange),
  }
}
