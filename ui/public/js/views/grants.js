// @ts-check
/* global document, window */
import { call, enc, query } from '../api.js'
import { field, h, message, plural, replace, tag, time, scrollable } from '../dom.js'

/**
 * Just-in-time grants created by approvals: list (filter by principal, rule, usable now) and
 * revoke one at once (immediate on every replica: grants are read from the store on every use).
 * @param {import('../main.js').ViewContext} ctx
 */
export async function grantsView(ctx) {
  document.title = 'Grants · skillgate console'
  const p = ctx.params
  const principal = h('input', { id: 'g-principal', name: 'principal', value: p.get('principal') ?? '' })
  const rule = h('input', { id: 'g-rule', name: 'rule', value: p.get('rule') ?? '' })
  const active = h('input', { id: 'g-active', name: 'active', type: 'checkbox', checked: p.get('active') === 'true' })
  const form = h(
    'form',
    {
      class: 'panel filters',
      'aria-label': 'Grant filters',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault()
        ctx.navigate(`#/grants${query({ principal: principal.value.trim(), rule: rule.value.trim(), active: active.checked ? 'true' : '' })}`)
      },
    },
    field('Principal', principal),
    field('Rule', rule),
    h('div', { class: 'field checkbox' }, active, h('label', { for: active.id }, 'Usable now only')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter')),
  )
  const status = h('div', { id: 'grant-status' })
  const list = h('div', {}, h('p', { class: 'hint' }, 'Loading…'))
  replace(ctx.root, h('h1', {}, 'Grants'), form, status, list)

  const load = async () => {
    try {
      /** @type {{ grants: Grant[] }} */
      const page = await call('GET', `/admin/api/grants${query({ principal: p.get('principal'), rule: p.get('rule'), active: p.get('active') === 'true' ? 'true' : undefined, limit: 200 })}`, undefined, { signal: ctx.signal })
      replace(list, grantsTable(page.grants, revoke))
    } catch (error) {
      if (!ctx.signal.aborted) replace(list, message('error', `Could not load grants: ${error instanceof Error ? error.message : String(error)}`))
    }
  }

  /** @param {Grant} grant */
  async function revoke(grant) {
    if (!window.confirm(`Revoke grant ${grant.id} of ${grant.principal}? Its next request needs a new approval.`)) return
    try {
      await call('DELETE', `/admin/api/grants/${enc(grant.id)}`)
      const text = `Grant ${grant.id} revoked.`
      replace(status, message('ok', text))
      ctx.announce(text)
    } catch (error) {
      replace(status, message('error', `Could not revoke ${grant.id}: ${error instanceof Error ? error.message : String(error)}`))
    }
    await load()
  }
  await load()
}

/**
 * @param {Grant[]} grants
 * @param {(grant: Grant) => Promise<void>} revoke
 */
function grantsTable(grants, revoke) {
  if (grants.length === 0) return h('p', { class: 'hint' }, 'No grants match.')
  const now = Date.now()
  return [
    h('p', { class: 'hint' }, `${plural(grants.length, 'grant')}, newest first.`),
    scrollable(h(
      'table',
      { id: 'grants-table' },
      h('caption', { class: 'visually-hidden' }, 'Grants'),
      h('thead', {}, h('tr', {}, ['Grant', 'Principal', 'Rule', 'Approved by', 'Created (UTC)', 'Expires (UTC)', 'Uses left', 'State', 'Action'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        grants.map((g) => {
          const state = g.revokedAt ? 'revoked' : Date.parse(g.expiresAt) <= now ? 'expired' : g.usesLeft === 0 ? 'used up' : 'active'
          return h(
            'tr',
            { 'data-id': g.id },
            h('td', { class: 'mono' }, g.id, h('br', {}), h('span', { class: 'hint' }, `review ${g.reviewId}`)),
            h('td', { class: 'mono' }, g.principal),
            h('td', {}, g.rule),
            h('td', {}, g.approver),
            h('td', {}, time(g.createdAt)),
            h('td', {}, time(g.expiresAt)),
            h('td', {}, g.usesLeft === null ? 'unlimited' : String(g.usesLeft)),
            h('td', {}, tag(state), g.revokedBy ? [h('br', {}), `by ${g.revokedBy}`] : ''),
            // Only a grant that can still let a call through can be revoked.
            h('td', {}, state !== 'active' ? '' : h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke grant ${g.id}`, onclick: () => void revoke(g) }, 'Revoke')),
          )
        }),
      ),
    )),
  ]
}
