import { z } from 'zod'
import type { AuditStore } from '../../storage/ports.js'
import { READ, defineRoute } from '../router.js'
import { isoDate, ref } from '../schemas.js'
import type { AdminApiDeps, RouteDef } from '../types.js'

/**
 * `GET /admin/api/principals`: the principals seen in the audit, derived by paging through
 * `AuditStore.list` (newest first) up to `scan` records. The answer says whether it saw everything
 * (`complete`); a store-side aggregate would make this exact at any size (see docs/admin-api.md).
 */

export interface PrincipalSummary {
  readonly principal: string
  readonly issuer: string | null
  /** Start time of the newest record. */
  readonly lastSeen: string
  /** Start time of the oldest record scanned. */
  readonly firstSeen: string
  readonly requests: number
  /** Records refused: decision deny, or an approval still pending or denied (outcome denied). */
  readonly refused: number
  /** The principal revocation in force, if any: tokens issued before this time are refused. */
  readonly revokedBefore: string | null
}

const query = z.strictObject({
  since: isoDate.optional(),
  scan: z
    .string()
    .regex(/^[0-9]{1,7}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100_000, 'expected at most 100000'))
    .optional()
    .transform((value) => value ?? 10_000),
})

export function principalRoutes(deps: AdminApiDeps): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/principals',
      tag: 'principals',
      roles: READ,
      summary: 'Principals seen in the audit: last seen, request count, revocation in force',
      query,
      responses: { 200: { description: 'Most recently seen first', schema: ref('PrincipalList') } },
      async handle({ query: q }) {
        const [seen, revocations] = await Promise.all([scanPrincipals(deps.storage.audit, q.since, q.scan), deps.storage.revocations.list()])
        const revoked = new Map(revocations.filter((r) => r.kind === 'principal').map((r) => [r.subject, r.revokedBefore?.toISOString() ?? null]))
        const principals: PrincipalSummary[] = [...seen.byPrincipal.values()].map((p) => ({ ...p, revokedBefore: revoked.get(p.principal) ?? null }))
        return { status: 200, body: { principals, scanned: seen.scanned, complete: seen.complete } }
      },
    }),
  ]
}

/** Mutable while scanning; becomes a `PrincipalSummary`. */
interface Tally {
  principal: string
  issuer: string | null
  lastSeen: string
  firstSeen: string
  requests: number
  refused: number
}

async function scanPrincipals(store: AuditStore, since: Date | undefined, max: number) {
  const byPrincipal = new Map<string, Tally>()
  let scanned = 0
  let cursor: string | undefined
  for (;;) {
    const page = await store.list({ limit: Math.min(1000, max - scanned), from: since, cursor })
    for (const record of page.records) {
      if (record.principal === null) continue
      const tally = byPrincipal.get(record.principal)
      // Refused: denied by policy or not (yet) approved; a call let through after approval is not.
      const refused = record.decision === 'deny' || record.outcome === 'denied' ? 1 : 0
      // Pages run newest first: the first record met is the last seen, each later one is older.
      if (tally) {
        tally.requests += 1
        tally.refused += refused
        tally.firstSeen = record.time.start
      } else byPrincipal.set(record.principal, { principal: record.principal, issuer: record.issuer, lastSeen: record.time.start, firstSeen: record.time.start, requests: 1, refused })
    }
    scanned += page.records.length
    cursor = page.nextCursor ?? undefined
    if (cursor === undefined) return { byPrincipal, scanned, complete: true }
    if (scanned >= max) return { byPrincipal, scanned, complete: false }
  }
}
