// @ts-check
/* global document, window */
import { call, enc } from '../api.js'
import { field, h, isoFromUtcInput, message, plural, replace, time, scrollable } from '../dom.js'

/**
 * Revocations in force, and the three ways to revoke: a principal (every token issued before a
 * time), one token (iss + jti), or a whole issuer; principal and issuer revocations can be lifted.
 * Changing them needs the admin role; every role can read them.
 * @param {import('../main.js').ViewContext} ctx
 */
export async function revocationsView(ctx) {
  document.title = 'Revocations · skillgate console'
  const status = h('div', { id: 'revocation-status' })
  const list = h('div', {}, h('p', { class: 'hint' }, 'Loading…'))
  replace(ctx.root, h('h1', {}, 'Revocations'), status, h('div', { class: 'grid-2' }, principalForm(apply), tokenForm(apply), issuerForm(apply)), h('h2', {}, 'In force'), list)

  const load = async () => {
    try {
      /** @type {{ revocations: Revocation[] }} */
      const { revocations } = await call('GET', '/admin/api/revocations', undefined, { signal: ctx.signal })
      replace(list, revocationsTable(revocations, lift))
    } catch (error) {
      if (!ctx.signal.aborted) replace(list, message('error', `Could not load revocations: ${error instanceof Error ? error.message : String(error)}`))
    }
  }

  /**
   * @param {string} what  for the confirmation and the result
   * @param {() => Promise<unknown>} action
   */
  async function apply(what, action) {
    if (!window.confirm(`${what}?`)) return false
    try {
      await action()
      replace(status, message('ok', `Done: ${what}.`))
      ctx.announce(`Done: ${what}.`)
      await load()
      return true
    } catch (error) {
      replace(status, message('error', `${what} failed: ${error instanceof Error ? error.message : String(error)}`))
      return false
    }
  }

  /** @param {Revocation} r */
  function lift(r) {
    if (r.kind === 'principal') return apply(`Lift the revocation of principal ${r.subject}`, () => call('DELETE', `/admin/api/revocations/principal/${enc(r.subject)}`))
    return apply(`Enable issuer ${r.subject} again`, () => call('DELETE', `/admin/api/revocations/issuer/${enc(r.subject)}`))
  }

  await load()
}

/** @typedef {(what: string, action: () => Promise<unknown>) => Promise<boolean>} Apply */

/** @param {Apply} apply */
function principalForm(apply) {
  const principal = h('input', { id: 'r-principal', required: true, size: 24 })
  const before = h('input', { id: 'r-before', type: 'datetime-local', step: 1 })
  const reason = h('input', { id: 'r-principal-reason', size: 24 })
  return revokeForm('Revoke a principal', [field('Principal', principal), field('Issued before (UTC)', before, 'Empty: every token issued so far.'), field('Reason', reason)], () =>
    apply(`Revoke principal ${principal.value.trim()}`, () =>
      call('POST', '/admin/api/revocations', { kind: 'principal', principal: principal.value.trim(), ...opt('before', isoFromUtcInput(before.value)), ...opt('reason', reason.value.trim()) }),
    ),
  )
}
/** @param {Apply} apply */
function tokenForm(apply) {
  const iss = h('input', { id: 'r-iss', required: true, size: 24 })
  const jti = h('input', { id: 'r-jti', required: true, size: 24 })
  const reason = h('input', { id: 'r-token-reason', size: 24 })
  return revokeForm('Revoke one token', [field('Issuer URL (iss)', iss), field('Token id (jti)', jti), field('Reason', reason)], () =>
    apply(`Revoke token ${jti.value.trim()}`, () => call('POST', '/admin/api/revocations', { kind: 'token', iss: iss.value.trim(), jti: jti.value.trim(), ...opt('reason', reason.value.trim()) })),
  )
}
/** @param {Apply} apply */
function issuerForm(apply) {
  const issuer = h('input', { id: 'r-issuer', required: true, size: 16 })
  const reason = h('input', { id: 'r-issuer-reason', size: 24 })
  return revokeForm('Disable an issuer', [field('Issuer id', issuer, 'An id of issuers[] or samlIssuers[] in the configuration.'), field('Reason', reason)], () =>
    apply(`Disable issuer ${issuer.value.trim()}`, () => call('POST', '/admin/api/revocations', { kind: 'issuer', issuer: issuer.value.trim(), ...opt('reason', reason.value.trim()) })),
  )
}

/**
 * @param {string} title
 * @param {HTMLElement[]} fields
 * @param {() => Promise<boolean>} submit
 */
function revokeForm(title, fields, submit) {
  const id = `h-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`
  const form = h(
    'form',
    {
      class: 'panel stack',
      'aria-labelledby': id,
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault()
        if (await submit()) form.reset()
      },
    },
    h('h2', { id }, title),
    fields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, title)),
  )
  return form
}

/**
 * @param {Revocation[]} revocations
 * @param {(r: Revocation) => Promise<boolean>} lift
 */
function revocationsTable(revocations, lift) {
  if (revocations.length === 0) return h('p', { class: 'hint' }, 'Nothing is revoked.')
  return [
    h('p', { class: 'hint' }, `${plural(revocations.length, 'revocation')}, newest first.`),
    scrollable(h(
      'table',
      { id: 'revocations-table' },
      h('caption', { class: 'visually-hidden' }, 'Revocations in force'),
      h('thead', {}, h('tr', {}, ['Kind', 'Subject', 'Token id', 'Before / until', 'Reason', 'By', 'Since (UTC)', 'Action'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        revocations.map((r) =>
          h(
            'tr',
            {},
            h('td', {}, r.kind),
            h('td', { class: 'mono' }, r.subject),
            h('td', { class: 'mono' }, r.jti ?? '—'),
            h('td', {}, r.revokedBefore ? time(r.revokedBefore) : r.expiresAt ? time(r.expiresAt) : '—'),
            h('td', {}, r.reason ?? '—'),
            h('td', {}, r.actor ?? '—'),
            h('td', {}, time(r.createdAt)),
            h('td', {}, r.kind === 'token' ? h('span', { class: 'hint' }, 'ends with the token') : h('button', { type: 'button', class: 'secondary', 'aria-label': `${r.kind === 'principal' ? 'Lift' : 'Enable'} ${r.subject}`, onclick: () => void lift(r) }, r.kind === 'principal' ? 'Lift' : 'Enable issuer')),
          ),
        ),
      ),
    )),
  ]
}

/** An optional body field, present only when set. @param {string} key @param {string} value */
const opt = (key, value) => (value ? { [key]: value } : {})
