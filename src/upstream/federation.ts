/**
 * Upstream workload identity federation (issue "Workload identity" item 7, SPEC §2 `upstream.federation`):
 * instead of a static API key the gateway exchanges its own workload JWT at the upstream's
 * `/v1/oauth/token` (anthropic-api.md §12, the same wire form as the SDK) and refreshes it in the
 * background the way the SDK does: when less than 120 s remain. Failed refreshes back off
 * exponentially while the old token is still valid; once it has expired `current()` returns
 * undefined, so requests fail closed (503) instead of going out without a credential.
 */
import { request, type Dispatcher } from 'undici'
import type { UpstreamCredential } from './forwarded-headers.js'

const TOKEN_PATH = '/v1/oauth/token'
const BETA = 'oauth-2025-04-20,oidc-federation-2026-04-01'
const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** SDK thresholds (anthropic-api.md §12.4): background refresh below 120 s. */
const DEFAULT_REFRESH_BEFORE_MS = 120_000
const MAX_RESPONSE_BYTES = 1024 * 1024
const MAX_ASSERTION_BYTES = 16 * 1024

export interface UpstreamFederationOptions {
  /** Upstream origin, e.g. `https://api.anthropic.com`; https unless loopback (like the SDK). */
  readonly origin: string
  /** The gateway's own workload JWT, read on every exchange (e.g. `Secret.reveal` of a followed `fromFile`). */
  readonly identityToken: () => string | Promise<string>
  readonly ruleId: string
  readonly organizationId: string
  readonly serviceAccountId?: string
  readonly workspaceId?: string
  readonly dispatcher?: Dispatcher
  readonly now?: () => number
  /** Per exchange; default 10 s. */
  readonly timeoutMs?: number
  /** Refresh when less than this remains; default 120 s (half the lifetime for shorter tokens). */
  readonly refreshBeforeMs?: number
  /** Backoff after a failed exchange: initial (default 1 s), doubling up to max (default 30 s). */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number }
  /** Log hook: exchange outcomes with expiry and error codes, never a token. */
  readonly onEvent?: (event: FederationEvent) => void
}

export type FederationEvent =
  | { readonly type: 'federation.exchanged'; readonly expiresAt: number }
  | { readonly type: 'federation.failed'; readonly error: string; readonly status?: number; readonly retryInMs: number; readonly tokenValid: boolean }

export type FederationState = 'starting' | 'ready' | 'refreshing' | 'expired' | 'closed'

export interface FederationHealth {
  readonly state: FederationState
  readonly expiresAt?: number
  readonly lastExchangeAt?: number
  readonly consecutiveFailures: number
  readonly lastError?: string
}

export interface UpstreamFederation {
  /** The credential to send, or undefined once the token has expired (fail closed). */
  current(): UpstreamCredential | undefined
  /** First exchange; rejects with an `UpstreamFederationError` naming status and OAuth error. */
  start(): Promise<void>
  /** After an upstream 401 with `value`: drop it and re-exchange now (the SDK's one re-exchange). */
  invalidate(value: string): void
  health(): FederationHealth
  close(): void
}

export class UpstreamFederationError extends Error {
  readonly status?: number
  /** RFC 6749 §5.2 `error` of the upstream, when it sent one. */
  readonly oauthError?: string

  constructor(message: string, options: { status?: number; oauthError?: string } = {}) {
    super(message)
    this.name = 'UpstreamFederationError'
    if (options.status !== undefined) this.status = options.status
    if (options.oauthError !== undefined) this.oauthError = options.oauthError
  }
}

interface Held {
  readonly value: string
  readonly expiresAt: number
  readonly lifetimeMs: number
}

/**
 * @example
 * const federation = createUpstreamFederation({ origin: config.upstream.url,
 *   identityToken: () => secret.reveal(), ruleId: 'fdrl_…', organizationId: '…' })
 * await federation.start()            // boot fails here with a clear error
 * const credential = federation.current  // a CredentialProvider for inject-credential
 */
export function createUpstreamFederation(options: UpstreamFederationOptions): UpstreamFederation {
  const url = tokenEndpoint(options.origin)
  const now = options.now ?? Date.now
  const refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS
  const initialBackoff = options.retry?.initialMs ?? 1_000
  const maxBackoff = options.retry?.maxMs ?? 30_000
  let held: Held | undefined
  let closed = false
  let failures = 0
  let lastError: string | undefined
  let lastExchangeAt: number | undefined
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> | undefined
  const emit = (event: FederationEvent) => {
    try {
      options.onEvent?.(event)
    } catch {
      // logging must not break refresh
    }
  }

  /** A small margin so a token is not sent in its last moments (at most 5 s, a tenth of its life). */
  const valid = (token: Held | undefined): token is Held =>
    token !== undefined && now() < token.expiresAt - Math.min(5_000, token.lifetimeMs / 10)

  function state(): FederationState {
    if (closed) return 'closed'
    if (valid(held)) return inFlight !== undefined || failures > 0 ? 'refreshing' : 'ready'
    return lastExchangeAt === undefined ? 'starting' : 'expired'
  }

  function schedule(delayMs: number): void {
    if (closed) return
    clearTimeout(timer)
    // setTimeout fires at once for delays above 2^31 − 1 ms (~24.8 days).
    timer = setTimeout(() => void refresh().catch(() => undefined), Math.min(2 ** 31 - 1, Math.max(0, delayMs)))
    timer.unref()
  }

  function refresh(): Promise<void> {
    inFlight ??= (async () => {
      try {
        const token = await exchange(url, options)
        if (closed) return
        held = token
        failures = 0
        lastError = undefined
        lastExchangeAt = now()
        emit({ type: 'federation.exchanged', expiresAt: token.expiresAt })
        schedule(token.expiresAt - Math.min(refreshBeforeMs, token.lifetimeMs / 2) - now())
      } catch (err) {
        failures++
        lastError = err instanceof Error ? err.message : 'exchange failed'
        const retryInMs = Math.min(maxBackoff, initialBackoff * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4)
        const tokenValid = valid(held)
        emit({ type: 'federation.failed', error: lastError, retryInMs, tokenValid, ...(err instanceof UpstreamFederationError && err.status !== undefined ? { status: err.status } : {}) })
        schedule(retryInMs)
        throw err
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  return {
    current() {
      return valid(held) ? { header: 'authorization', value: held.value, oauth: true } : undefined
    },
    async start() {
      await refresh()
    },
    invalidate(value) {
      if (held?.value !== value) return
      held = undefined
      if (inFlight === undefined) void refresh().catch(() => undefined)
    },
    health() {
      return {
        state: state(),
        consecutiveFailures: failures,
        ...(held === undefined ? {} : { expiresAt: held.expiresAt }),
        ...(lastExchangeAt === undefined ? {} : { lastExchangeAt }),
        ...(lastError === undefined ? {} : { lastError }),
      }
    },
    close() {
      closed = true
      clearTimeout(timer)
      held = undefined
    },
  }
}

function tokenEndpoint(origin: string): string {
  const url = new URL(origin)
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
  // The identity token must never travel in clear text (the SDK refuses the same way).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError('upstream federation needs an https origin (http only for loopback)')
  }
  return `${url.origin}${TOKEN_PATH}`
}

async function exchange(url: string, options: UpstreamFederationOptions): Promise<Held> {
  const assertion = (await options.identityToken()).trim()
  if (assertion === '') throw new UpstreamFederationError('upstream federation: the identity token is empty')
  if (Buffer.byteLength(assertion) > MAX_ASSERTION_BYTES) throw new UpstreamFederationError('upstream federation: the identity token exceeds 16 KiB')
  const body: Record<string, string> = {
    grant_type: GRANT_JWT_BEARER,
    assertion,
    federation_rule_id: options.ruleId,
    organization_id: options.organizationId,
  }
  if (options.serviceAccountId !== undefined) body.service_account_id = options.serviceAccountId
  if (options.workspaceId !== undefined) body.workspace_id = options.workspaceId
  const started = (options.now ?? Date.now)()
  let response: Dispatcher.ResponseData
  try {
    response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-beta': BETA, 'user-agent': 'skillgate upstream-federation' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    })
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw new UpstreamFederationError(`upstream federation: token endpoint unreachable (${typeof code === 'string' ? code : (err as Error).name})`)
  }
  const text = await readLimited(response.body)
  return parseTokenResponse(response.statusCode, text, started)
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy()
      throw new UpstreamFederationError('upstream federation: token response over 1 MiB')
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** anthropic-api.md §12.3: `access_token` required, `token_type` Bearer if present, finite `expires_in`. */
function parseTokenResponse(status: number, text: string, startedAt: number): Held {
  let json: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>
  } catch {
    json = undefined
  }
  if (status < 200 || status > 299) {
    const oauthError = typeof json?.error === 'string' ? json.error.slice(0, 64) : undefined
    const description = typeof json?.error_description === 'string' ? `: ${sanitise(json.error_description)}` : ''
    throw new UpstreamFederationError(`upstream federation: token exchange failed with status ${status}${oauthError ? ` (${oauthError})` : ''}${description}`, {
      status,
      ...(oauthError === undefined ? {} : { oauthError }),
    })
  }
  const accessToken = json?.access_token
  const tokenType = json?.token_type
  const expiresIn = Number(json?.expires_in)
  if (typeof accessToken !== 'string' || accessToken === '' || /\s/.test(accessToken)) {
    throw new UpstreamFederationError('upstream federation: token response has no access_token', { status })
  }
  if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) {
    throw new UpstreamFederationError('upstream federation: token_type is not Bearer', { status })
  }
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw new UpstreamFederationError('upstream federation: expires_in is not a positive number', { status })
  const lifetimeMs = expiresIn * 1000
  // Measured from the request start: the token cannot be older than that.
  return { value: accessToken, expiresAt: startedAt + lifetimeMs, lifetimeMs }
}

/** Upstream descriptions are for operators; cut them short and blank anything shaped like a JWT. */
function sanitise(text: string): string {
  return text.replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, '[jwt]').replace(/[\r\n]+/g, ' ').slice(0, 200)
}
