// @ts-check
/* global sessionStorage, EventTarget, Event, URLSearchParams */
/**
 * The console's only network access: `/admin/api/*` on this origin (the CSP allows nothing else).
 * The bearer token lives in this tab's sessionStorage: it survives a reload, is gone when the tab
 * closes, and is never in a cookie, so no other site can make the browser send it (no CSRF).
 */

const KEY = 'skillgate.console.token'
const CSRF = 'skillgate.console.csrf'

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status  0 when the gateway could not be reached
   * @param {string | null} requiredRole  from `skillgate-required-role` on a 403
   */
  constructor(message, status, requiredRole = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.requiredRole = requiredRole
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  /** @param {string} value */
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
}

/**
 * A single sign-on session: the gateway holds it (an HttpOnly, SameSite=Strict cookie this code
 * cannot read); the tab keeps only the session's CSRF token, sent on every POST and DELETE.
 */
export const session = {
  csrf: () => sessionStorage.getItem(CSRF),
  /** @param {string} value */
  set: (value) => sessionStorage.setItem(CSRF, value),
  clear: () => sessionStorage.removeItem(CSRF),
}

export const signedIn = () => token.get() !== null || session.csrf() !== null

/** After the sign-in redirect: asks the gateway whether this browser has a session, and keeps its CSRF token. */
export async function detectSession() {
  try {
    const res = await fetch('/admin/api/session', { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
    if (!res.ok) return false
    const body = await res.json()
    if (typeof body?.csrfToken !== 'string') return false
    session.set(body.csrfToken)
    return true
  } catch {
    return false
  }
}

/** Listeners told when the gateway refuses the token (expired OIDC token, rotated admin token). */
const unauthorized = new EventTarget()
/** @param {() => void} listener */
export const onUnauthorized = (listener) => unauthorized.addEventListener('unauthorized', listener)

/**
 * @param {string} method
 * @param {string} path  starts with /admin/api/
 * @param {unknown} [body]
 * @param {{ signal?: AbortSignal, token?: string }} [options]
 * @returns {Promise<T>}  T is the caller's declared type: the API's documented shape, not checked here
 * @template T
 */
export async function call(method, path, body, options = {}) {
  if (!path.startsWith('/admin/api/')) throw new TypeError('the console only calls the admin API')
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' }
  const bearer = options.token ?? token.get()
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const csrf = bearer ? null : session.csrf()
  if (csrf && method !== 'GET') headers['x-skillgate-csrf'] = csrf
  if (body !== undefined) headers['content-type'] = 'application/json'
  /** @type {Response} */
  let res
  try {
    res = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      // The session cookie goes only with a sign-on session; a pasted token never rides on cookies.
      credentials: csrf ? 'same-origin' : 'omit',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } catch (error) {
    if (options.signal?.aborted) throw error
    throw new ApiError('the gateway did not answer (is it still running?)', 0)
  }
  if (res.ok) return res.status === 204 ? /** @type {T} */ (null) : res.json()
  throw await failure(res, options.token === undefined)
}

/**
 * @param {Response} res
 * @param {boolean} storedToken
 */
async function failure(res, storedToken) {
  let text = ''
  try {
    const body = await res.json()
    text = typeof body?.error?.message === 'string' ? body.error.message : ''
  } catch {
    // Not the gateway's JSON error (a proxy page): the status says enough.
  }
  if (res.status === 401 && storedToken) unauthorized.dispatchEvent(new Event('unauthorized'))
  const role = res.headers.get('skillgate-required-role')
  if (res.status === 403 && role) return new ApiError(`This token lacks the role needed here (${role.split(',').join(' or ')}).`, 403, role)
  return new ApiError(text || `the gateway answered ${res.status}`, res.status)
}

/** @param {Record<string, string | number | boolean | undefined | null>} params */
export function query(params) {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  const text = search.toString()
  return text ? `?${text}` : ''
}

/** @param {string} segment */
export const enc = (segment) => encodeURIComponent(segment)
