import { revocationTokenKey, type Revocation, type RevocationKind, type RevocationSnapshot } from './ports.js'

/** Row shape of the `revocations` table in both adapters (times as ms numbers). */
export interface RevocationRow {
  readonly kind: string
  readonly subject: string
  readonly jti: string
  readonly revoked_before: number | null
  readonly expires_at: number | null
  readonly reason: string | null
  readonly actor: string | null
  readonly created_at: number
}

export function revocationFromRow(row: RevocationRow): Revocation {
  return {
    kind: row.kind as RevocationKind,
    subject: row.subject,
    jti: row.kind === 'token' ? row.jti : null,
    revokedBefore: row.revoked_before === null ? null : new Date(row.revoked_before),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    reason: row.reason,
    actor: row.actor,
    createdAt: new Date(row.created_at),
  }
}

export function snapshotFromRows(version: number, rows: readonly RevocationRow[]): RevocationSnapshot {
  const principals = new Map<string, number>()
  const tokens = new Map<string, number>()
  const issuers = new Set<string>()
  for (const row of rows) {
    if (row.kind === 'principal' && row.revoked_before !== null) principals.set(row.subject, row.revoked_before)
    else if (row.kind === 'token' && row.expires_at !== null) tokens.set(revocationTokenKey(row.subject, row.jti), row.expires_at)
    else if (row.kind === 'issuer') issuers.add(row.subject)
  }
  return { version, principals, tokens, issuers }
}
