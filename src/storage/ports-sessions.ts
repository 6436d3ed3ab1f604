/**
 * Browser sessions of people signed in to the console (issue #17 item 1). Kept in the shared store,
 * so any replica serves them and a sign-out or a revocation ends a session everywhere at once. The
 * store never sees the cookie itself, only its SHA-256 digest. Like every port, methods reject only
 * with a `StorageError`.
 */
export interface AdminSession {
  /** `ses_` + ULID: what the session list shows and an admin revokes by; not the cookie. */
  readonly id: string
  /** The `admin.issuers` id the person signed in through. */
  readonly issuer: string
  readonly subject: string
  readonly name: string | null
  readonly email: string | null
  readonly roles: readonly string[]
  /** The sign-in settings the roles were derived under; a session is only honoured while they are in force. */
  readonly roleBasis: string | null
  readonly createdAt: Date
  readonly lastSeenAt: Date
  /** Absolute end, whatever the activity. */
  readonly expiresAt: Date
}

export interface NewAdminSession {
  /** Hex SHA-256 of the cookie value. */
  readonly secretDigest: string
  readonly issuer: string
  readonly subject: string
  readonly name?: string | undefined
  readonly email?: string | undefined
  readonly roles: readonly string[]
  readonly roleBasis: string
  readonly expiresAt: Date
}

export interface SessionStore {
  create(session: NewAdminSession): Promise<AdminSession>
  /**
   * The live session with this cookie digest, its last use moved to now — in one statement, so a
   * session idle longer than `idleMs` or past its absolute end is never revived. Undefined otherwise.
   */
  touch(secretDigest: string, idleMs: number, now?: Date): Promise<AdminSession | undefined>
  /** Sessions not past their absolute end, newest first (at most 1 000). */
  list(now?: Date): Promise<AdminSession[]>
  /** Ends a session at once on every replica; false when there was none. */
  revoke(id: string): Promise<boolean>
  /** Sign-out: ends the session with this cookie digest. */
  revokeByDigest(secretDigest: string): Promise<boolean>
  /** Deletes sessions past their absolute end or idle longer than `idleMs`; returns how many. */
  prune(idleMs: number, now?: Date): Promise<number>
}
