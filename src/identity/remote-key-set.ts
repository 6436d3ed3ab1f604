/**
 * Remote key sets (`discovery`, `uri`) on top of jose's `createRemoteJWKSet` (jose
 * src/jwks/remote.ts; style-anchors §2: use it, do not re-implement it). jose already shares one
 * in-flight fetch, refetches on an unknown `kid` at most once per cooldown (catalogue #42) and
 * refuses redirects. What it does not do, and this wrapper adds (workload-identity.md §3):
 *
 * - stale-if-error: when the cache is older than `cacheMaxAge` jose refetches *before* every use and
 *   a failed refetch fails the verification, although the old keys are still held. Here the last
 *   good set keeps serving and `health()` reports `degraded` (catalogue #44).
 * - failure backoff: after a failed fetch, no new fetch for `cooldownMs`; with no cache jose would
 *   refetch on every token (a dead or tarpitted endpoint would cost every request the timeout).
 * - bounded, validated responses and health bookkeeping, through jose's `customFetch` hook.
 */
import { createRemoteJWKSet, customFetch, type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters, type RemoteJWKSet } from 'jose'
import { discoverJwksUri } from './discovery.js'
import { describeFetchFailure, KeySourceError, MAX_JWKS_BYTES, readBoundedText } from './fetch-policy.js'
import { createCheckedLocalSet, KeyLoadTracker, type IssuerKeySet, type KeySetStatus, type KeySetTiming } from './key-set.js'
import type { IssuerSpec } from './types.js'

type RemoteSource = { readonly kind: 'discovery' } | { readonly kind: 'uri'; readonly uri: URL }

export function createRemoteKeySet(spec: IssuerSpec, source: RemoteSource, timing: KeySetTiming): IssuerKeySet {
  return new RemoteKeySet(spec, source, timing)
}

class RemoteKeySet implements IssuerKeySet {
  private readonly tracker: KeyLoadTracker
  private remote: RemoteJWKSet | undefined
  private discovering: Promise<RemoteJWKSet> | undefined

  constructor(
    private readonly spec: IssuerSpec,
    source: RemoteSource,
    private readonly timing: KeySetTiming,
  ) {
    this.tracker = new KeyLoadTracker(spec.id)
    if (source.kind === 'uri') this.remote = this.build(source.uri)
  }

  /** The jose key resolver (an arrow property: jose calls it unbound). */
  readonly getKey = async (header?: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<CryptoKey> => {
    const { tracker } = this
    if (tracker.inFailureBackoff(this.timing.cooldownMs)) return tracker.lastGood()(header, token)
    const failuresBefore = tracker.failureCount
    let set: RemoteJWKSet
    try {
      set = await this.resolveRemote()
    } catch {
      return tracker.lastGood()(header, token)
    }
    try {
      return await set(header, token)
    } catch (err) {
      // Not a fetch problem (unknown kid, unsupported alg): let the verifier map it.
      if (tracker.failureCount === failuresBefore) throw err
      // A fetch failed while we waited: serve the last good keys (stale-if-error, §3).
      return tracker.lastGood()(header, token)
    }
  }

  status(): KeySetStatus {
    return this.tracker.status()
  }

  async warmUp(): Promise<void> {
    try {
      await (await this.resolveRemote()).reload()
    } catch {
      // Recorded by the tracker; health() reports it.
    }
  }

  close(): void {
    // Nothing to stop: jose keeps no timers, fetches end on their own timeout.
  }

  /** jose calls this for every JWKS fetch; it records the outcome and validates the body. */
  private readonly observedFetch = async (url: string, init: RequestInit): Promise<Response> => {
    let response: Response
    try {
      response = await fetch(url, init)
    } catch (err) {
      this.tracker.failed(describeFetchFailure(err, 'JWKS').message)
      throw err // keeps the TimeoutError name jose maps to ERR_JWKS_TIMEOUT
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined)
      const failure = new KeySourceError(`JWKS answered HTTP ${response.status}`)
      this.tracker.failed(failure.message)
      throw failure
    }
    try {
      const text = await readBoundedText(response, MAX_JWKS_BYTES, 'JWKS')
      this.tracker.succeeded(createCheckedLocalSet(JSON.parse(text) as unknown, 'JWKS'))
      return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } })
    } catch (err) {
      this.tracker.failed(err instanceof KeySourceError ? err.message : 'JWKS is not JSON')
      throw err
    }
  }

  private build(url: URL): RemoteJWKSet {
    return createRemoteJWKSet(url, {
      timeoutDuration: this.timing.fetchTimeoutMs,
      cooldownDuration: this.timing.cooldownMs,
      cacheMaxAge: this.timing.cacheMaxAgeMs,
      [customFetch]: this.observedFetch,
    })
  }

  /** The discovery document is fetched once; concurrent callers share the attempt. */
  private resolveRemote(): Promise<RemoteJWKSet> {
    if (this.remote !== undefined) return Promise.resolve(this.remote)
    const insecure = this.spec.allowInsecureHttp === true
    this.discovering ??= discoverJwksUri(this.spec.issuer, insecure, this.timing.fetchTimeoutMs)
      .then(
        (url) => (this.remote = this.build(url)),
        (err: unknown) => {
          this.tracker.failed(err instanceof KeySourceError ? err.message : 'discovery failed')
          throw err
        },
      )
      .finally(() => {
        this.discovering = undefined
      })
    return this.discovering
  }
}
