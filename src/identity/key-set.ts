/**
 * One key set per issuer, never merged (workload-identity.md §3, RFC 8725 §3.8): a merged JWKS lets
 * issuer B's key verify a token claiming issuer A (catalogue #34). This file holds the shared
 * contract, the load/health bookkeeping, and the inline (`keys`) source.
 */
import { createLocalJWKSet, type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose'
import { parseJwks } from './jwks-shape.js'
import { TokenError, type IssuerState } from './types.js'

/** What jose's `jwtVerify` calls to obtain the verification key (a jose `JWTVerifyGetKey`). */
export type KeyResolver = (protectedHeader?: JWSHeaderParameters, token?: FlattenedJWSInput) => Promise<CryptoKey>

export interface KeySetStatus {
  readonly state: IssuerState
  readonly detail?: string
  readonly keysFetchedAt?: number
}

export interface IssuerKeySet {
  /** Throws `TokenError('issuer_unavailable')` when no key was ever loaded. */
  readonly getKey: KeyResolver
  status(): KeySetStatus
  /** Loads the keys once; never throws. */
  warmUp(): Promise<void>
  close(): void
}

export interface KeySetTiming {
  readonly fetchTimeoutMs: number
  readonly cooldownMs: number
  readonly cacheMaxAgeMs: number
}

/**
 * Last good load and last failure of a key source. Ordering uses a sequence, not timestamps, so two
 * events in the same millisecond are still ordered. Times are `Date.now()`, like jose's own cache.
 */
export class KeyLoadTracker {
  private seq = 0
  private failures = 0
  private good: { seq: number; at: number; resolver: KeyResolver } | undefined
  private failure: { seq: number; at: number; detail: string } | undefined

  constructor(private readonly issuerId: string) {}

  succeeded(resolver: KeyResolver): void {
    this.good = { seq: ++this.seq, at: Date.now(), resolver }
  }

  failed(detail: string): void {
    this.failures++
    this.failure = { seq: ++this.seq, at: Date.now(), detail }
  }

  /** Increases on every recorded failure; lets a caller see whether a fetch failed meanwhile. */
  get failureCount(): number {
    return this.failures
  }

  /** True while the newest event is a failure younger than `cooldownMs`. */
  inFailureBackoff(cooldownMs: number): boolean {
    const { failure, good } = this
    if (failure === undefined || (good !== undefined && good.seq > failure.seq)) return false
    return Date.now() - failure.at < cooldownMs
  }

  /** The last good keys, or `issuer_unavailable` (fail closed, style-anchors §3.11). */
  lastGood(): KeyResolver {
    if (this.good === undefined) {
      throw new TokenError('issuer_unavailable', { issuerId: this.issuerId, detail: this.failure?.detail ?? 'keys not loaded' })
    }
    return this.good.resolver
  }

  status(): KeySetStatus {
    const { good, failure } = this
    if (good === undefined) return { state: 'unavailable', detail: failure?.detail ?? 'keys not loaded yet' }
    if (failure !== undefined && failure.seq > good.seq) {
      return { state: 'degraded', detail: failure.detail, keysFetchedAt: good.at }
    }
    return { state: 'ready', keysFetchedAt: good.at }
  }
}

/** Builds a jose local set after the shape checks of `parseJwks`. Throws `KeySourceError`. */
export function createCheckedLocalSet(value: unknown, what: string): KeyResolver {
  return createLocalJWKSet(parseJwks(value, what))
}

/** Inline keys: validated at construction, always ready. */
export function createStaticKeySet(keys: readonly unknown[]): IssuerKeySet {
  const resolver = createCheckedLocalSet({ keys: [...keys] }, 'inline keys')
  const keysFetchedAt = Date.now()
  return {
    getKey: resolver,
    status: () => ({ state: 'ready', keysFetchedAt }),
    warmUp: () => Promise.resolve(),
    close: () => undefined,
  }
}
