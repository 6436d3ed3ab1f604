// @ts-check
/* global document */
import { ApiError, call, token } from '../api.js'
import { field, h, message, replace } from '../dom.js'

/**
 * Sign in with a bearer token: an admin token of `admin.tokens`, or a human OIDC token of
 * `admin.issuers` (both are sent the same way). The token is checked against the gateway before it
 * is kept, and kept only in this tab's sessionStorage.
 * @param {import('../main.js').ViewContext} ctx
 */
export function signInView(ctx) {
  document.title = 'Sign in · skillgate console'
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, size: 60 })
  const status = h('div', {})
  const next = safeNext(ctx.params.get('next'))
  const form = h(
    'form',
    { class: 'panel', onsubmit: (/** @type {Event} */ event) => void submit(event) },
    field('Admin token or OIDC bearer token', input, 'Paste the token without "Bearer ".'),
    h('p', { class: 'hint', id: 'token-storage' }, 'The token is kept in this browser tab only (sessionStorage): it survives a reload and is forgotten when the tab closes. It is sent only to this gateway, in the Authorization header.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    status,
  )
  input.setAttribute('aria-describedby', 'token-hint token-storage')
  const sso = h('div', {})
  void ssoLinks(sso)
  replace(
    ctx.root,
    h('h1', {}, 'Sign in'),
    sso,
    ctx.params.has('expired') ? message('error', 'The gateway no longer accepts that token. Sign in again.') : null,
    ctx.params.has('signedOut') ? message('ok', 'Signed out; the token was removed from this tab.') : null,
    form,
  )
  input.focus()

  /** @param {Event} event */
  async function submit(event) {
    event.preventDefault()
    const value = input.value.trim().replace(/^Bearer\s+/i, '')
    if (!value) return
    replace(status, message('info', 'Checking the token…'))
    try {
      // Every role may read health, so this checks the token whatever its roles.
      await call('GET', '/admin/api/health', undefined, { token: value })
      token.set(value)
      input.value = ''
      ctx.navigate(next)
    } catch (error) {
      const text = error instanceof ApiError && error.status === 401 ? 'The gateway does not accept this token.' : `Could not sign in: ${String(error instanceof Error ? error.message : error)}`
      replace(status, message('error', text))
      input.focus()
    }
  }
}

/** "Sign in with <issuer>" for each single sign-on issuer the gateway offers. @param {HTMLElement} into */
async function ssoLinks(into) {
  try {
    /** @type {{ sso: { id: string, url: string }[] }} */
    const options = await call('GET', '/admin/api/sign-in')
    if (options.sso.length === 0) return
    replace(into, h('div', { class: 'panel actions' }, ...options.sso.map((o) => h('a', { href: o.url, class: 'button' }, `Sign in with ${o.id}`))), h('p', { class: 'hint' }, 'Or paste a token:'))
  } catch {
    // No sign-on offered, or the gateway is unreachable: the token form below still works.
  }
}

/** Only an in-app hash route: a crafted `next` must not send the user elsewhere. @param {string | null} next */
function safeNext(next) {
  return next && /^#\/[A-Za-z0-9/_?=&%.:-]*$/.test(next) && !next.startsWith('#/sign-in') ? next : '#/audit'
}
