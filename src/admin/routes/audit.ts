import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import { latestHeadStatus } from '../../audit/heads/latest.js'
import { replayRecord, sseText } from '../../audit/replay.js'
import { GatewayError } from '../../errors/gateway-error.js'
import { drained } from '../../http/drained.js'
import type { AuditListFilter, AuditStore } from '../../storage/ports.js'
import { AdminError } from '../errors.js'
import { READ, defineRoute, param } from '../router.js'
import { auditFilterShape, cursorParam, limitParam, ref } from '../schemas.js'
import type { AdminApiDeps, RouteContext, RouteDef } from '../types.js'

/** `/admin/api/audit*`: search, one record, replay of a recorded stream, JSONL export, chain check. */

const filterQuery = z.strictObject(auditFilterShape)
type FilterQuery = z.output<typeof filterQuery>
const listQuery = z.strictObject({ ...auditFilterShape, limit: limitParam(1000, 50), cursor: cursorParam })
const replayQuery = z.strictObject({
  speed: z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?$/, 'expected a number such as 1, 2 or 0.5')
    .transform(Number)
    .pipe(z.number().gt(0, 'expected a speed above 0').max(10_000, 'expected a speed up to 10000'))
    .optional()
    .transform((value) => value ?? 1),
})

const headsQuery = z.strictObject({
  after: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'expected a chain position (a whole number)')
    .transform(Number)
    .optional()
    .describe('Only heads at positions after this one.'),
})

const toFilter = (q: FilterQuery): AuditListFilter => ({
  principal: q.principal,
  actor: q.actor,
  rule: q.rule,
  skill: q.skill,
  clientSession: q.clientSession,
  endpoint: q.endpoint,
  decision: q.decision,
  outcome: q.outcome,
  from: q.since,
  to: q.until,
})

export function auditRoutes(deps: AdminApiDeps): RouteDef[] {
  const store = deps.storage.audit
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/api/audit',
      tag: 'audit',
      roles: READ,
      summary: 'Search audit records, newest first (filters combine with AND)',
      query: listQuery,
      responses: { 200: { description: 'One page of records', schema: ref('AuditPage') } },
      async handle({ query }) {
        const page = await store.list({ ...toFilter(query), limit: query.limit, cursor: query.cursor })
        return { status: 200, body: page }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/audit/export',
      tag: 'audit',
      roles: READ,
      summary: 'Every matching record as JSON Lines, oldest first (streamed)',
      query: filterQuery,
      responses: { 200: { description: 'One record per line', contentType: 'application/x-ndjson', schema: ref('AuditRecord') } },
      async handle({ query, res, requestId, signal }) {
        await exportJsonl(store, toFilter(query), res, requestId, signal)
        return 'streamed'
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/audit/heads',
      tag: 'audit',
      roles: READ,
      summary: 'Signed chain heads (compact JWS), oldest position first: keep a copy outside the store for `skillgate audit verify --heads`',
      query: headsQuery,
      responses: { 200: { description: 'Up to 10 000 heads; page on with ?after=<last position>', schema: ref('AuditHeads') } },
      async handle({ query }) {
        const heads = await store.listHeads(query.after)
        return { status: 200, body: { heads: heads.map((h) => ({ jws: h.jws, ...(h.timestamp ? { timestamp: h.timestamp } : {}) })) } }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/audit/heads/latest',
      tag: 'audit',
      roles: READ,
      summary: 'The newest signed chain head and whether it verifies against the running keys and the store now',
      responses: { 200: { description: 'The status line the console shows', schema: ref('LatestHead') } },
      async handle() {
        return { status: 200, body: await latestHeadStatus(store, deps.auditKeys, deps.tsaTrust) }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/audit/{id}',
      tag: 'audit',
      roles: READ,
      summary: 'One audit record',
      responses: { 200: { description: 'The record', schema: ref('AuditRecord') } },
      async handle(ctx) {
        return { status: 200, body: await getRecord(store, param(ctx, 'id')) }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/api/audit/{id}/replay',
      tag: 'audit',
      roles: READ,
      summary: 'Re-emit a recorded stream as SSE with its recorded timing (speed 2 = twice as fast)',
      query: replayQuery,
      responses: { 200: { description: 'The masked events the client received, re-timed', contentType: 'text/event-stream' } },
      handle: (ctx) => replay(store, ctx),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/api/audit/verify',
      tag: 'audit',
      roles: READ,
      summary: 'Walk the hash chain and name every edited, deleted, inserted or reordered record',
      responses: { 200: { description: 'The report; `ok` is false when the chain is broken', schema: ref('VerifyReport') } },
      async handle() {
        return { status: 200, body: await store.verify() }
      },
    }),
  ]
}

async function getRecord(store: AuditStore, id: string) {
  const record = await store.get(id)
  if (!record) throw new GatewayError('GW_NOT_FOUND', { publicDetail: `no audit record ${id}` })
  return record
}

async function replay(store: AuditStore, ctx: RouteContext<z.output<typeof replayQuery>, undefined>): Promise<'streamed'> {
  const record = await getRecord(store, param(ctx, 'id'))
  if (record.response?.kind !== 'sse') throw new AdminError('GW_ADMIN_CONFLICT', `record ${record.id} has no recorded stream to replay`)
  const { res } = ctx
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'skillgate-request-id': ctx.requestId })
  res.flushHeaders()
  try {
    for await (const frame of replayRecord(record, { speed: ctx.query.speed, signal: ctx.signal })) res.write(sseText(frame))
  } catch (error) {
    // The viewer closed the stream mid-wait: nothing failed.
    if (ctx.signal.aborted) return 'streamed'
    throw error
  }
  res.end()
  return 'streamed'
}

/**
 * Streams with backpressure and stops when the client goes away. The first record is read before
 * the status line, so a store that cannot be read still gets a proper error response.
 */
async function exportJsonl(store: AuditStore, filter: AuditListFilter, res: ServerResponse, requestId: string, signal: AbortSignal): Promise<void> {
  const iterator = store.iterate(filter)[Symbol.asyncIterator]()
  let next = await iterator.next()
  res.writeHead(200, {
    'content-type': 'application/x-ndjson',
    'cache-control': 'no-store',
    'content-disposition': 'attachment; filename="skillgate-audit.jsonl"',
    'skillgate-request-id': requestId,
  })
  try {
    while (!next.done && !signal.aborted) {
      if (!res.write(`${JSON.stringify(next.value)}\n`)) await drained(res)
      next = await iterator.next()
    }
  } finally {
    if (!next.done) await iterator.return?.()
  }
  res.end()
}
