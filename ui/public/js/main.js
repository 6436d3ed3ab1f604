// @ts-check
/* global document, location, URLSearchParams, window */
import { call, detectSession, onUnauthorized, session, signedIn as isSignedIn, token } from './api.js'
import { h, replace } from './dom.js'
import { PendingFeed } from './live.js'
import { auditDetailView } from './views/audit-detail.js'
import { auditListView } from './views/audit-list.js'
import { explainView } from './views/explain.js'
import { grantsView } from './views/grants.js'
import { reviewDetailView } from './views/review-detail.js'
import { reviewsView } from './views/reviews.js'
import { revocationsView } from './views/revocations.js'
import { sessionView } from './views/session.js'
import { signInView } from './views/sign-in.js'

/**
 * Boot and hash routing (`#/audit?principal=…`, `#/audit/<id>`, `#/reviews`…): the URL names the
 * view and its filters, so back/forward and links work, and nothing but static files is served.
 */

/**
 * @typedef {object} ViewContext
 * @property {HTMLElement} root  the view's own element inside <main>
 * @property {URLSearchParams} params  the hash's query
 * @property {string[]} match  captures of the route pattern
 * @property {AbortSignal} signal  aborted when the user leaves the view (stop timers and polls)
 * @property {(text: string) => void} announce  polite screen-reader announcement
 * @property {PendingFeed} pending
 * @property {(hash: string) => void} navigate
 */
/** @typedef {(ctx: ViewContext) => void | Promise<void>} View */

/** @type {[RegExp, string, View][]} */
const routes = [
  [/^\/sign-in$/, 'sign-in', signInView],
  [/^\/audit$/, 'audit', auditListView],
  [/^\/audit\/([^/]+)$/, 'audit', auditDetailView],
  [/^\/sessions\/([^/]+)$/, 'audit', sessionView],
  [/^\/reviews$/, 'reviews', reviewsView],
  [/^\/reviews\/([^/]+)$/, 'reviews', reviewDetailView],
  [/^\/grants$/, 'grants', grantsView],
  [/^\/revocations$/, 'revocations', revocationsView],
  [/^\/explain$/, 'explain', explainView],
]

const main = /** @type {HTMLElement} */ (document.getElementById('main'))
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'))
const signOut = /** @type {HTMLButtonElement} */ (document.getElementById('sign-out'))
const badge = /** @type {HTMLElement} */ (document.getElementById('pending-count'))
const announcer = /** @type {HTMLElement} */ (document.getElementById('announcer'))
const pending = new PendingFeed()
/** @type {AbortController | undefined} */
let current
let firstRender = true

/** @param {string} text */
function announce(text) {
  // Cleared first so the same words twice are still read out.
  announcer.textContent = ''
  setTimeout(() => (announcer.textContent = text), 50)
}

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) render()
  else location.hash = hash
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/audit'
  const q = raw.indexOf('?')
  return { path: q === -1 ? raw : raw.slice(0, q), params: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) }
}

function render() {
  current?.abort()
  current = new AbortController()
  const { path, params } = parseHash()
  const signedIn = isSignedIn()
  if (!signedIn && path !== '/sign-in') {
    navigate(`#/sign-in${path === '/audit' ? '' : `?next=${encodeURIComponent(`#${path}`)}`}`)
    return
  }
  showChrome(signedIn)
  const found = routes.map(([re, section, view]) => ({ m: re.exec(path), section, view })).find((r) => r.m)
  for (const link of nav.querySelectorAll('a[data-section]')) {
    if (found && link.getAttribute('data-section') === found.section) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  const root = h('div', { class: 'view' })
  replace(main, root)
  if (!found?.m) {
    replace(root, h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/audit' }, 'Go to the audit')))
  } else {
    const ctx = { root, params, match: found.m.slice(1).map((s) => decodeURIComponent(s)), signal: current.signal, announce, pending, navigate }
    Promise.resolve(found.view(ctx)).catch((error) => replace(root, h('p', { role: 'alert' }, `This view failed: ${String(error)}`)))
  }
  // Focus moves to the new content on navigation (not on the first load), as a page load would.
  if (!firstRender) main.focus()
  firstRender = false
}

/** @param {boolean} signedIn */
function showChrome(signedIn) {
  nav.hidden = !signedIn
  signOut.hidden = !signedIn
  if (signedIn) pending.start()
  else pending.stop()
}

pending.subscribe((reviews, fresh) => {
  badge.hidden = reviews.length === 0
  badge.textContent = reviews.length === 0 ? '' : String(reviews.length)
  badge.setAttribute('aria-label', `${reviews.length} pending`)
  for (const review of fresh) announce(`New review waiting: ${review.principal}, rule ${review.rule}`)
})

signOut.addEventListener('click', async () => {
  // A sign-on session ends at the gateway, on every replica; a pasted token is just forgotten.
  if (session.csrf() !== null) await call('POST', '/admin/api/session/logout').catch(() => undefined)
  session.clear()
  token.clear()
  pending.stop()
  navigate('#/sign-in?signedOut=1')
})

onUnauthorized(() => {
  session.clear()
  token.clear()
  pending.stop()
  navigate(`#/sign-in?expired=1&next=${encodeURIComponent(location.hash)}`)
})

// The routes live in the hash, so the skip link moves focus itself instead of changing it to #main.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault()
  main.focus()
  main.scrollIntoView()
})

window.addEventListener('hashchange', render)
// Back from single sign-on (`#/sso`): the session cookie is set; learn its CSRF token, then go on.
if (location.hash === '#/sso') void detectSession().finally(() => navigate('#/audit'))
else render()
