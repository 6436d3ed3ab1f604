import { revocationTokenKey, type Revocation, type RevocationSnapshot } from './ports.js'
import type { Stored } from './shared.js'

/** Row of `revocations` (see `Stored`); `jti` is '' but for a token. */
export type RevocationRow = Stored<Omit<Revocation, 'jti'>> & { readonly jti: string }

export function revocationFromRow(row: RevocationRow): Revocation {
  return {
    ...row,
    jti: row.kind === 'token' ? row.jti : null,
    revokedBefore: row.revokedBefore === null ? null : new Date(row.revokedBefore),
    expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt),
    createdAt: new Date(row.createdAt),
  }
}

export function snapshotFromRows(version: number, rows: readonly RevocationRow[]): RevocationSnapshot {
  const principals = new Map<string, number>()
  const tokens = new Map<string, number>()
  const issuers = new Set<string>()
  for (const row of rows) {
    if (row.kind === 'principal' && row.revokedBefore !== null) principals.set(row.subject, row.revokedBefore)
    else if (row.kind === 'token' && row.expiresAt !== null) tokens.set(revocationTokenKey(row.subject, row.jti), row.expiresAt)
    else if (row.kind === 'issuer') issuers.add(row.subject)
  }
  return { version, principals, tokens, issuers }
}
