import type { AuditDecision, AuditRecord, AuditState } from '../audit/record.js'
import type { Explanation } from '../policy/explain.js'
import type { Grant, Review, ReviewState, Revocation, VerifyReport } from '../storage/ports.js'
import { UsageError } from './usage-error.js'

/**
 * The CLI's client for a running gateway's admin API (SPEC §1: commands that act on a running gateway
 * talk to its admin API; `--url` or `$SKILLGATE_URL`, token from `$SKILLGATE_ADMIN_TOKEN`). Every
 * failure is an `AdminClientError` whose message says what to do next.
 *
 * @example
 * const client = adminClientFromEnv(values.url)
 * if (client) for (const r of (await client.auditList({ principal: 'ci:1/2', limit: 20 })).records) console.log(r.id)
 */

/** A value as it arrives over JSON: dates are ISO strings. */
export type Wire<T> = T extends Date ? string : T extends readonly (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T

export interface AuditFilter {
  readonly principal?: string | undefined
  readonly actor?: string | undefined
  readonly rule?: string | undefined
  readonly skill?: string | undefined
  readonly clientSession?: string | undefined
  readonly endpoint?: string | undefined
  readonly decision?: AuditDecision | undefined
  readonly outcome?: AuditState | undefined
  /** ISO 8601. */
  readonly since?: string | undefined
  readonly until?: string | undefined
}

export type RevokeInput =
  | { readonly kind: 'principal'; readonly principal: string; readonly before?: string; readonly reason?: string }
  | { readonly kind: 'token'; readonly iss: string; readonly jti: string; readonly until?: string; readonly reason?: string }
  | { readonly kind: 'issuer'; readonly issuer: string; readonly reason?: string }

export interface OwnerAssignInput {
  readonly kind: string
  readonly id: string
  readonly principal: string
  readonly rule?: string
  readonly reason?: string
}

export interface OwnerAssignment {
  readonly kind: string
  readonly id: string
  readonly principal: string
  readonly rule: string | null
  /** The principal that owned it before, if any. */
  readonly previous: string | null
}

export interface RevocationResult {
  readonly version: number
  readonly kind: Revocation['kind']
  readonly [key: string]: unknown
}

export interface PrincipalSummary {
  readonly principal: string
  readonly issuer: string | null
  readonly lastSeen: string
  readonly firstSeen: string
  readonly requests: number
  readonly refused: number
  readonly revokedBefore: string | null
}

export interface ExplainInput {
  readonly claims: Readonly<Record<string, unknown>>
  readonly issuer?: string
  readonly request: { readonly method: string; readonly path: string; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
}

export interface Page {
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

export interface AdminClient {
  readonly url: string
  auditList(query?: AuditFilter & Page): Promise<{ records: Wire<AuditRecord>[]; nextCursor: string | null }>
  auditGet(id: string): Promise<Wire<AuditRecord>>
  /** The SSE text as the gateway re-emits it, chunk by chunk, with the recorded timing. */
  auditReplay(id: string, options?: { speed?: number }): AsyncIterable<string>
  /** One JSON record per line (without the newline), oldest first. */
  auditExport(filter?: AuditFilter): AsyncIterable<string>
  auditVerify(): Promise<Wire<VerifyReport>>
  revocations(): Promise<{ revocations: Wire<Revocation>[] }>
  revoke(input: RevokeInput): Promise<RevocationResult>
  assignOwner(input: OwnerAssignInput): Promise<OwnerAssignment>
  liftPrincipal(principal: string): Promise<RevocationResult>
  enableIssuer(issuer: string): Promise<RevocationResult>
  principals(query?: { since?: string; scan?: number }): Promise<{ principals: PrincipalSummary[]; scanned: number; complete: boolean }>
  explain(input: ExplainInput): Promise<Wire<Explanation> & { issuer: string }>
  config(): Promise<Record<string, unknown>>
  health(): Promise<Record<string, unknown> & { ok: boolean }>
  reviews(query?: { state?: ReviewState; principal?: string; rule?: string } & Page): Promise<{ reviews: Wire<Review>[]; nextCursor: string | null }>
  review(id: string): Promise<Wire<Review>>
  approve(id: string, reason?: string): Promise<{ review: Wire<Review>; grant: Wire<Grant> | null }>
  deny(id: string, reason?: string): Promise<{ review: Wire<Review>; grant: null }>
  grants(query?: { principal?: string; rule?: string; active?: boolean } & Page): Promise<{ grants: Wire<Grant>[]; nextCursor: string | null }>
  revokeGrant(id: string): Promise<Wire<Grant>>
}

export interface AdminClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  readonly token?: string | undefined
  /** For JSON calls; streams (replay, export) run until the gateway ends them. Default 60 s. */
  readonly timeoutMs?: number
  /** Injected for tests. */
  readonly fetch?: typeof fetch
}

/** A failed admin API call; `status` is null when the gateway could not be reached. */
export class AdminClientError extends Error {
  readonly status: number | null
  constructor(message: string, status: number | null, options: { cause?: unknown } = {}) {
    super(message, options)
    this.name = 'AdminClientError'
    this.status = status
  }
}

/**
 * The client for `--url`, else `$SKILLGATE_URL`; undefined when neither is set, so a command can
 * fall back to reading the store directly (offline use).
 */
export function adminClientFromEnv(flagUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): AdminClient | undefined {
  const url = flagUrl ?? env.SKILLGATE_URL
  if (url === undefined || url === '') return undefined
  return adminClient({ url, token: env.SKILLGATE_ADMIN_TOKEN })
}

export function adminClient(options: AdminClientOptions): AdminClient {
  const base = baseUrl(options.url)
  const call = caller(base, options)
  const q = (params: Readonly<Record<string, string | number | boolean | undefined>>) => {
    const search = new URLSearchParams()
    for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value))
    const text = search.toString()
    return text ? `?${text}` : ''
  }
  const id = (value: string) => encodeURIComponent(value)
  return {
    url: base,
    auditList: (query = {}) => call.json('GET', `/admin/api/audit${q({ ...query })}`),
    auditGet: (recordId) => call.json('GET', `/admin/api/audit/${id(recordId)}`),
    auditReplay: (recordId, o = {}) => call.text(`/admin/api/audit/${id(recordId)}/replay${q({ speed: o.speed })}`),
    auditExport: (filter = {}) => lines(call.text(`/admin/api/audit/export${q({ ...filter })}`)),
    auditVerify: () => call.json('POST', '/admin/api/audit/verify'),
    revocations: () => call.json('GET', '/admin/api/revocations'),
    revoke: (input) => call.json('POST', '/admin/api/revocations', input),
    assignOwner: (input) => call.json('POST', '/admin/api/owners', input),
    liftPrincipal: (principal) => call.json('DELETE', `/admin/api/revocations/principal/${id(principal)}`),
    enableIssuer: (issuer) => call.json('DELETE', `/admin/api/revocations/issuer/${id(issuer)}`),
    principals: (query = {}) => call.json('GET', `/admin/api/principals${q({ ...query })}`),
    explain: (input) => call.json('POST', '/admin/api/policy/explain', input),
    config: () => call.json('GET', '/admin/api/config'),
    health: () => call.json('GET', '/admin/api/health'),
    reviews: (query = {}) => call.json('GET', `/admin/api/reviews${q({ ...query })}`),
    review: (reviewId) => call.json('GET', `/admin/api/reviews/${id(reviewId)}`),
    approve: (reviewId, reason) => call.json('POST', `/admin/api/reviews/${id(reviewId)}/approve`, reason === undefined ? {} : { reason }),
    deny: (reviewId, reason) => call.json('POST', `/admin/api/reviews/${id(reviewId)}/deny`, reason === undefined ? {} : { reason }),
    grants: (query = {}) => call.json('GET', `/admin/api/grants${q({ ...query })}`),
    revokeGrant: (grantId) => call.json('DELETE', `/admin/api/grants/${id(grantId)}`),
  }
}

function baseUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`--url / SKILLGATE_URL "${text}" is not a URL (expected e.g. http://127.0.0.1:8080)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url / SKILLGATE_URL must be http:// or https://`)
  return url.origin + url.pathname.replace(/\/+$/, '')
}

function caller(base: string, options: AdminClientOptions) {
  const doFetch = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 60_000
  async function send(method: string, path: string, body: unknown, timeout: boolean): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (options.token) headers.authorization = `Bearer ${options.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(timeout ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      })
    } catch (error) {
      throw unreachable(base, error)
    }
    if (!res.ok) throw await failure(res, options.token !== undefined && options.token !== '')
    return res
  }
  return {
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await send(method, path, body, true)
      return (await res.json()) as T
    },
    async *text(path: string): AsyncIterable<string> {
      const res = await send('GET', path, undefined, false)
      if (!res.body) return
      const decoder = new TextDecoder()
      for await (const chunk of res.body) yield decoder.decode(chunk, { stream: true })
      const rest = decoder.decode()
      if (rest) yield rest
    },
  }
}

async function* lines(chunks: AsyncIterable<string>): AsyncIterable<string> {
  let buffered = ''
  for await (const chunk of chunks) {
    buffered += chunk
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      yield buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
  }
  if (buffered) yield buffered
}

function unreachable(base: string, error: unknown): AdminClientError {
  const cause = (error as { cause?: { code?: string } })?.cause?.code ?? (error as Error)?.name ?? 'error'
  if (cause === 'TimeoutError') return new AdminClientError(`the gateway at ${base} did not answer in time`, null, { cause: error })
  return new AdminClientError(`cannot reach the gateway at ${base} (${cause}): is it running? Point --url or SKILLGATE_URL at it`, null, { cause: error })
}

/** Turns the gateway's error body into a message that names the fix. */
async function failure(res: Response, hadToken: boolean): Promise<AdminClientError> {
  const text = await res.text().catch(() => '')
  let message = text.slice(0, 500)
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } }
    if (typeof body.error?.message === 'string') message = body.error.message
  } catch {
    // Not the gateway's JSON error (a proxy page): show the start of it.
  }
  if (res.status === 401) {
    const fix = hadToken ? 'SKILLGATE_ADMIN_TOKEN is not accepted: set it to a token of admin.tokens' : 'no admin token: set SKILLGATE_ADMIN_TOKEN'
    return new AdminClientError(`${fix} (gateway: ${message})`, 401)
  }
  const role = res.headers.get('skillgate-required-role')
  if (res.status === 403 && role) return new AdminClientError(`this token lacks role ${role.split(',').join(' or ')} (gateway: ${message})`, 403)
  if (res.status === 404 && message === 'not found') return new AdminClientError(`the gateway has no such admin API route (HTTP 404): is ${res.url} a skillgate gateway of this version?`, 404)
  return new AdminClientError(`gateway answered ${res.status}: ${message}`, res.status)
}
