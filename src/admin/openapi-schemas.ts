/**
 * Response schemas of the OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1 uses). Request
 * bodies and query parameters are generated from the zod schemas the router validates with; these
 * describe what handlers return, with the fields a client relies on (records carry more).
 */

type Schema = Readonly<Record<string, unknown>>

const str = { type: 'string' } as const
const nullableStr = { type: ['string', 'null'] } as const
const time = { type: 'string', format: 'date-time' } as const
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const
const int = { type: 'integer' } as const
const bool = { type: 'boolean' } as const
const refTo = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })
const object = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required })
const page = (key: string, item: string): Schema => object({ [key]: { type: 'array', items: refTo(item) }, nextCursor: nullableStr })

export const componentSchemas: Readonly<Record<string, Schema>> = {
  Error: object({
    type: { const: 'error' },
    error: object({ type: str, message: str }),
    request_id: str,
  }),
  AuditRecord: {
    ...object({
      v: { const: 1 },
      id: str,
      time: object({ start: time, firstByte: nullableTime, end: nullableTime }),
      principal: nullableStr,
      issuer: nullableStr,
      sub: nullableStr,
      rule: nullableStr,
      decision: { enum: ['allow', 'deny', 'approval_required'] },
      reasons: { type: 'array', items: object({ code: str, detail: str }, ['code']) },
      endpoint: str,
      model: nullableStr,
      clientSession: nullableStr,
      status: { type: ['integer', 'null'] },
      outcome: { enum: ['completed', 'interrupted', 'denied', 'error', 'open'] },
      prevHash: str,
      hash: str,
    }),
    description: 'Audit record v1 (docs/audit.md); further fields: claims, skills, tools, usage, latency, request, response, maskHits, chain.',
  },
  AuditPage: page('records', 'AuditRecord'),
  VerifyReport: object({
    ok: bool,
    links: int,
    records: int,
    problemCount: int,
    problems: { type: 'array', items: object({ kind: str, seq: { type: ['integer', 'null'] }, recordId: nullableStr, detail: str }) },
  }, ['ok', 'links', 'records', 'problemCount', 'problems']),
  AuditHeads: object({ heads: { type: 'array', items: object({ jws: str, timestamp: { type: 'string', description: 'RFC 3161 TimeStampToken over the JWS (DER, base64), when audit.timestamping obtained one' } }, ['jws']) } }),
  LatestHead: object(
    {
      head: { type: ['object', 'null'], properties: { position: int, time, writer: str, event: nullableStr } },
      verifies: bool,
      detail: str,
      // With audit.timestamping: the head's RFC 3161 timestamp (null time when it has none or it fails).
      timestamp: { type: 'object', properties: { time: nullableTime, tsa: nullableStr, verifies: bool, detail: str } },
    },
    ['head', 'verifies', 'detail'],
  ),
  Revocation: object({
    kind: { enum: ['principal', 'token', 'issuer'] },
    subject: str,
    jti: nullableStr,
    revokedBefore: nullableTime,
    expiresAt: nullableTime,
    reason: nullableStr,
    actor: nullableStr,
    createdAt: time,
  }),
  RevocationList: object({ revocations: { type: 'array', items: refTo('Revocation') } }),
  OwnerAssignment: object({ kind: str, id: str, principal: str, rule: nullableStr, previous: nullableStr }),
  RevocationResult: object({ version: int, kind: { enum: ['principal', 'token', 'issuer'] } }),
  PrincipalList: object({
    principals: {
      type: 'array',
      items: object({ principal: str, issuer: nullableStr, lastSeen: time, firstSeen: time, requests: int, refused: int, revokedBefore: nullableTime }),
    },
    scanned: int,
    complete: bool,
  }),
  Explanation: object({
    issuer: str,
    decision: object({ effect: { enum: ['allow', 'deny'] }, rule: str, principal: str, reasons: { type: 'array', items: object({ code: str, detail: str }, ['code']) } }, ['effect', 'reasons']),
    endpoint: object({ name: str, inspectBody: bool }),
    facts: { type: 'object' },
    text: str,
  }),
  ConfigView: { type: 'object', description: 'The parsed configuration; every secret is "[redacted]".' },
  Health: object({
    ok: bool,
    storage: object({ kind: { enum: ['sqlite', 'postgres'] }, ok: bool, detail: str }, ['kind', 'ok']),
    issuers: { type: 'array', items: object({ id: str, issuer: str, state: { enum: ['ready', 'degraded', 'unavailable'] } }) },
    adminIssuers: { type: 'array', items: object({ id: str, issuer: str, state: { enum: ['ready', 'degraded', 'unavailable'] } }) },
  }),
  Review: object({
    id: str,
    principal: str,
    rule: str,
    state: { enum: ['pending', 'approved', 'denied', 'expired'] },
    summary: object({ endpoint: str, model: nullableStr, skills: { type: 'array', items: str }, tools: { type: 'array', items: str }, requestId: str }),
    requester: object({ issuer: str, subject: str }),
    createdAt: time,
    expiresAt: time,
    decidedAt: nullableTime,
    approver: nullableStr,
    approverName: nullableStr,
    reason: nullableStr,
    grantId: nullableStr,
  }),
  ReviewPage: page('reviews', 'Review'),
  Grant: object({
    id: str,
    principal: str,
    rule: str,
    reviewId: str,
    approver: str,
    createdAt: time,
    expiresAt: time,
    usesLeft: { type: ['integer', 'null'] },
    revokedAt: nullableTime,
    revokedBy: nullableStr,
  }),
  GrantPage: page('grants', 'Grant'),
  ReviewDecision: object({ review: refTo('Review'), grant: { oneOf: [refTo('Grant'), { type: 'null' }] } }),
}
