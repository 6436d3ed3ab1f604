import type { AuditReceipt } from '../audit/batch-plan.js'
import type { ChainHead } from '../audit/chain.js'
import type { VerifyReport } from '../audit/chain-verifier.js'
import type { LedgerVerifyOptions } from '../audit/ledger-verifier.js'
import type { StoredHead } from '../audit/heads/head.js'
import type { AuditCompletion, AuditDecision, AuditOpening, AuditRecord, AuditState } from '../audit/record.js'
import type { GrantStore, ReviewStore } from './ports-approvals.js'
import type { CounterStore } from './ports-limits.js'
import type { GatewayKeyStore } from './ports-keys.js'
import type { MintedTokenStore } from './ports-minted.js'
import type { OwnershipStore } from './ports-ownership.js'
import type { SessionStore } from './ports-sessions.js'

/**
 * The storage ports (style-anchors §14, modelled on node-oidc-provider `example/my_adapter.js`):
 * the few methods the gateway needs, each documented with what it promises. Each store is written
 * once over the shared SQL layer (sql-storage.ts) and runs on the drivers in `sqlite/` and `postgres/`;
 * `test/contract/storage-contract.ts` runs the same behaviour against both. Every method rejects with a `StorageError` (see errors.ts) and never with a driver error, so
 * callers can fail closed by code.
 */

export type { VerifyReport } from '../audit/chain-verifier.js'
export type { ChainHead } from '../audit/chain.js'
export type * from './ports-approvals.js'
export type * from './ports-limits.js'
export type * from './ports-ownership.js'
export type * from './ports-sessions.js'
export type { AuditReceipt } from '../audit/batch-plan.js'

export interface AuditListFilter {
  readonly principal?: string | undefined
  /** Admin actions (approvals, denials, grants, revocations) done by this actor id (`token:ci-bot`, `slack:U…`, `oidc:corp:alice`). */
  readonly actor?: string | undefined
  readonly rule?: string | undefined
  /** Records whose `skills` contain this alias. */
  readonly skill?: string | undefined
  /** Records of one client session (`x-claude-code-session-id`); combine with `principal` to scope it. */
  readonly clientSession?: string | undefined
  /** Records of one endpoint as the record names it (`messages`, `mcp.tools.call`, …). */
  readonly endpoint?: string | undefined
  readonly decision?: AuditDecision | undefined
  readonly outcome?: AuditState | undefined
  /** `time.start >= from`. */
  readonly from?: Date | undefined
  /** `time.start < to`. */
  readonly to?: Date | undefined
}

/** Cursor paging, newest first, shared by every listing port (audit, reviews, grants). */
export interface PageQuery {
  /** 1..1000. */
  readonly limit: number
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | undefined
}

export interface CursorPage {
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null
}

export interface AuditListQuery extends AuditListFilter, PageQuery {}

export interface AuditPage extends CursorPage {
  /** Newest first (by id: ULIDs sort by creation time). */
  readonly records: readonly AuditRecord[]
}

export interface PruneResult {
  /** Records removed. */
  readonly removed: number
  /** The latest checkpoint after pruning (the last removed link); null when nothing was ever pruned. */
  readonly checkpoint: ChainHead | null
  /** The signed checkpoint head, stored with the checkpoint, when `signCheckpoint` was given and records were removed. */
  readonly head?: StoredHead
}

export interface PruneOptions {
  /**
   * Signs the checkpoint inside the pruning transaction (synchronous: SQLite's transaction is). The
   * head is stored with the checkpoint and returned in `PruneResult.head`.
   */
  readonly signCheckpoint?: ((checkpoint: ChainHead & { readonly before: number }) => StoredHead) | undefined
}

export interface AuditStoreStats {
  /** Transactions that committed audit halves (group commit: fewer than the halves written). */
  readonly commits: number
  /** Halves (begin + complete) committed. */
  readonly writes: number
  readonly largestBatch: number
}

/** Progress output and a view of every link the walk checks (signed-head verification collects hashes with it). */
export type VerifyOptions = LedgerVerifyOptions

export interface AuditStore {
  /**
   * Commits the opening half as a new chain link. Under strict durability the gateway awaits this
   * before anything goes upstream. Concurrent calls share transactions (group commit). Rejects with
   * `conflict` when the id exists, `invalid` for a malformed half, `unavailable` when nothing could
   * be committed.
   */
  begin(opening: AuditOpening): Promise<AuditReceipt>
  /**
   * Commits the completion half of an open record as its second link. Awaited before the last byte
   * reaches the client. Rejects with `not_found` for an unknown id and `conflict` when the record is
   * no longer open (already completed, or marked interrupted by another instance).
   */
  complete(id: string, completion: AuditCompletion): Promise<AuditReceipt>
  /**
   * At start-up: closes records left open by writers that are gone (crashed processes whose lease
   * expired) with outcome `interrupted`. Records of live writers — other workers and replicas — are
   * left alone. `olderThan` further limits it to records started before that time. Returns the count.
   */
  markInterrupted(olderThan?: Date): Promise<number>
  get(id: string): Promise<AuditRecord | undefined>
  /** Newest first, `limit` per page, cursor paging stable under concurrent inserts. */
  list(query: AuditListQuery): Promise<AuditPage>
  /** Every matching record, oldest first, read in pages (for `audit export`). */
  iterate(filter?: AuditListFilter): AsyncIterable<AuditRecord>
  /** Checks the whole chain from the genesis or the latest checkpoint; names every problem. */
  verify(options?: VerifyOptions): Promise<VerifyReport>
  /**
   * Retention: removes closed records that ended before `before`, always a prefix of the chain (a
   * record is never split), and records a checkpoint (position and hash of the last removed link) so
   * the remainder still verifies.
   */
  prune(before: Date, options?: PruneOptions): Promise<PruneResult>
  /** This Storage instance's writer id (the `writer` of the heads it signs). */
  readonly writerId: string
  /** The stored chain head (position and hash of the newest link). */
  chainHead(): Promise<ChainHead>
  /** Keeps a signed head (idempotent by its JWS). */
  saveHead(head: StoredHead): Promise<void>
  /** Adds the RFC 3161 timestamp obtained for a stored head (its JWS); keeps one already there. */
  saveHeadTimestamp(jws: string, timestamp: string): Promise<void>
  /**
   * Signed heads with position > `after` (all when undefined), oldest position first, at most
   * `limit` (10 000): a full page ends at a whole position, so `after` = its last one pages on.
   */
  listHeads(after?: number, limit?: number): Promise<StoredHead[]>
  /** The signed head at the highest position (the newest of those), if any. */
  latestHead(): Promise<StoredHead | undefined>
  /** The hash of the link at `seq` as stored, or undefined when there is none. */
  linkHash(seq: number): Promise<string | undefined>
  /** Counters for metrics and for the group-commit contract test. */
  stats(): AuditStoreStats
}

export type RevocationKind = 'principal' | 'token' | 'issuer'

export interface RevocationMeta {
  readonly reason?: string | undefined
  /** Who revoked (admin token name, approver). */
  readonly actor?: string | undefined
}

export interface Revocation {
  readonly kind: RevocationKind
  /** principal id, token `iss`, or issuer config id. */
  readonly subject: string
  /** token only. */
  readonly jti: string | null
  /** principal only: tokens issued (`iat`) before this are revoked. */
  readonly revokedBefore: Date | null
  /** token only: the entry is dropped after the token's own expiry. */
  readonly expiresAt: Date | null
  readonly reason: string | null
  readonly actor: string | null
  readonly createdAt: Date
}

/**
 * Everything in force at one version, shaped for O(1) lookups by an in-memory cache that polls
 * `version()` (cheap) and reloads the snapshot only when it moved: bounded staleness across
 * replicas at the cost of one tiny query per poll.
 */
export interface RevocationSnapshot {
  readonly version: number
  /** principal → revoked_before (ms since epoch). */
  readonly principals: ReadonlyMap<string, number>
  /** `revocationTokenKey(iss, jti)` → expiry (ms since epoch). */
  readonly tokens: ReadonlyMap<string, number>
  /** Disabled issuer config ids. */
  readonly issuers: ReadonlySet<string>
}

/** Map key of a revoked token; JSON so no (iss, jti) pair can collide with another. */
export function revocationTokenKey(iss: string, jti: string): string {
  return JSON.stringify([iss, jti])
}

export interface RevocationStore {
  /** Revokes every token of `principal` issued before `before` (a later call replaces the time). Returns the new version. */
  revokePrincipal(principal: string, before: Date, meta?: RevocationMeta): Promise<number>
  /** Lifts a principal revocation. Returns the new version. */
  liftPrincipal(principal: string): Promise<number>
  /** Revokes one token (iss, jti) until `expiresAt` (its `exp`); afterwards it cannot verify anyway. */
  revokeToken(iss: string, jti: string, expiresAt: Date, meta?: RevocationMeta): Promise<number>
  /** Refuses every token of this issuer until enabled again. */
  disableIssuer(issuerId: string, meta?: RevocationMeta): Promise<number>
  enableIssuer(issuerId: string): Promise<number>
  /** Revocations in force, newest first. */
  list(): Promise<Revocation[]>
  /** Everything in force, read in one transaction, with its version. */
  snapshot(): Promise<RevocationSnapshot>
  /** Monotonically increasing; every change above increments it. */
  version(): Promise<number>
}

export interface ReplayStore {
  /**
   * Records (iss, jti) as used. Resolves true the first time and false on any later call until
   * `expiresAt` (the assertion's `exp`) has passed; atomic across processes and replicas.
   */
  useOnce(iss: string, jti: string, expiresAt: Date): Promise<boolean>
}

export interface MigrationResult {
  readonly from: number
  readonly to: number
}

export interface StorageHealth {
  readonly ok: boolean
  readonly detail?: string
}

export interface Storage {
  readonly kind: 'sqlite' | 'postgres'
  readonly audit: AuditStore
  readonly revocations: RevocationStore
  readonly replay: ReplayStore
  /** Approval queue (SPEC §2 `approval:`). */
  readonly reviews: ReviewStore
  /** Just-in-time grants created by approvals. */
  readonly grants: GrantStore
  /** Rate, budget and concurrency counters (SPEC §2 `limits:`). */
  readonly counters: CounterStore
  /** Sources of minted gateway tokens, by `jti` (issue #13). */
  readonly minted: MintedTokenStore
  /** Gateway signing keys, sealed (issue #14; used when `gatewayTokens.keyEncryption` is set). */
  readonly gatewayKeys: GatewayKeyStore
  /** Who created each upstream object (batches, files, containers, skills and their versions). */
  readonly owners: OwnershipStore
  /** Console sessions of people signed in with `admin.issuers` (issue #17). */
  readonly sessions: SessionStore
  /** Creates or upgrades the schema (idempotent; serialised across processes). */
  migrate(): Promise<MigrationResult>
  /** Reachable and at the expected schema version. */
  health(): Promise<StorageHealth>
  /** Waits for pending group commits, releases this writer's lease, closes connections. */
  close(): Promise<void>
}

export interface OpenStorageOptions {
  /** Base for relative `sqlite:` paths; default `process.cwd()`. */
  readonly cwd?: string | undefined
  /** PostgreSQL schema to use (search_path); default the server's. */
  readonly schema?: string | undefined
  /** PostgreSQL pool size; default 10. */
  readonly poolSize?: number | undefined
  /** Group commit: wait this long for more halves before committing; 0 = the next event-loop turn. */
  readonly groupCommitDelayMs?: number | undefined
  /** Group commit: at most this many halves per transaction; default 256. */
  readonly maxBatch?: number | undefined
  /** A writer with open records renews its lease every third of this; default 30 s. */
  readonly writerLeaseMs?: number | undefined
  /** This instance's writer id (default a fresh ULID). */
  readonly writerId?: string | undefined
  /** SQLite busy timeout, how long to wait for another process's write lock; default 5 s. */
  readonly busyTimeoutMs?: number | undefined
  /** Clock, for tests. */
  readonly now?: (() => Date) | undefined
  /**
   * Called for background failures no caller awaits, which the store otherwise could only swallow:
   * `'writer-lease'` (a timer renewal of this writer's lease failed; if it keeps failing, another
   * instance may mark this writer's live records interrupted), `'writer-lease-release'` (the lease
   * could not be removed at close) and `'postgres-idle-connection'` (an idle pooled connection
   * failed; the next query reconnects). Never throws into the store; default: ignore.
   */
  readonly onError?: StorageErrorHandler | undefined
}

export type StorageErrorHandler = (op: 'writer-lease' | 'writer-lease-release' | 'postgres-idle-connection' | (string & {}), error: Error) => void
