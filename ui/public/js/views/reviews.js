// @ts-check
/* global document */
import { call, enc, query } from '../api.js'
import { field, h, message, plural, replace, scrollable, select, tag, time } from '../dom.js'
import { POLL_MS } from '../live.js'

/**
 * The approval queue. Pending reviews update live (the shared poller of live.js): a job that asks
 * appears within about a second and a half, without a reload. Rows are keyed by review id and
 * replaced only when their version changes, so a half-typed reason or a focused button survives
 * the updates.
 * @param {import('../main.js').ViewContext} ctx
 */
export function reviewsView(ctx) {
  document.title = 'Reviews · skillgate console'
  const state = ctx.params.get('state') ?? 'pending'
  const stateSelect = select('f-state', ['all', 'pending', 'approved', 'denied', 'expired'], state === 'all' ? '' : state)
  const form = h(
    'form',
    { class: 'panel filters', 'aria-label': 'Review filter', onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), ctx.navigate(`#/reviews${query({ state: stateSelect.value || 'all' })}`)) },
    field('State', stateSelect),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show')),
  )
  const status = h('div', { id: 'review-status' })
  // The reload runs after a click, when loadOthers below exists.
  const decide = decider(ctx, status, () => {
    if (state !== 'pending') void loadOthers()
  })
  const count = h('p', { class: 'hint', id: 'review-count' })
  const tbody = h('tbody', {})
  const table = h(
    'table',
    { id: 'reviews-table' },
    h('caption', {}, state === 'pending' ? `Pending reviews; this list updates by itself every ${POLL_MS / 1000} s.` : 'Reviews'),
    h('thead', {}, h('tr', {}, ['Asked (UTC)', 'Principal', 'Rule', 'Request', 'Requester', 'Expires (UTC)', 'State', 'Decision'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  )
  replace(ctx.root, h('h1', {}, 'Reviews'), form, status, count, scrollable(table))
  /** @type {Map<string, { version: number, tr: HTMLTableRowElement }>} */
  const rows = new Map()

  /** @param {Review[]} reviews @param {Set<string>} fresh */
  const show = (reviews, fresh) => {
    reconcile(tbody, rows, reviews, fresh, (review) => reviewRow(review, decide))
    count.textContent = reviews.length === 0 ? (state === 'pending' ? 'No review is waiting. New ones appear here by themselves.' : 'No reviews.') : `${plural(reviews.length, 'review')}.`
  }
  const loadOthers = async () => {
    try {
      /** @type {{ reviews: Review[] }} */
      const page = await call('GET', `/admin/api/reviews${query({ state: state === 'all' ? undefined : state, limit: 100 })}`, undefined, { signal: ctx.signal })
      show(page.reviews, new Set())
    } catch (error) {
      if (!ctx.signal.aborted) replace(status, message('error', `Could not load reviews: ${error instanceof Error ? error.message : String(error)}`))
    }
  }
  count.textContent = 'Loading…'
  if (state === 'pending' && ctx.pending.error) replace(status, message('error', ctx.pending.error.message))
  // Subscribing calls back at once with the feed's current list when it has one.
  const unsubscribe = ctx.pending.subscribe((reviews, fresh) => {
    if (state === 'pending') show(reviews, new Set(fresh.map((r) => r.id)))
    else void loadOthers()
  })
  ctx.signal.addEventListener('abort', unsubscribe)
  if (state !== 'pending') void loadOthers()
  ctx.pending.refresh()
}

/**
 * Approve or deny a review; the result is shown in `status` and announced.
 * @param {import('../main.js').ViewContext} ctx
 * @param {HTMLElement} status
 * @param {() => void} reload  after the decision, for lists the shared feed does not cover
 * @returns {(review: Review, action: 'approve' | 'deny', reason: string) => Promise<void>}
 */
export function decider(ctx, status, reload) {
  return async (review, action, reason) => {
    replace(status, message('info', `${action === 'approve' ? 'Approving' : 'Denying'} ${review.id}…`))
    try {
      /** @type {{ review: Review, grant: Grant | null }} */
      const result = await call('POST', `/admin/api/reviews/${enc(review.id)}/${action}`, reason ? { reason } : {})
      const text = result.grant ? `Approved ${review.id}: grant ${result.grant.id} for ${review.principal} until ${result.grant.expiresAt}.` : `${action === 'approve' ? 'Approved' : 'Denied'} ${review.id}.`
      replace(status, message('ok', text))
      ctx.announce(text)
    } catch (error) {
      replace(status, message('error', `Could not ${action} ${review.id}: ${error instanceof Error ? error.message : String(error)}`))
    }
    ctx.pending.refresh()
    reload()
  }
}

/**
 * Keyed update without moving rows that stay (moving a node would drop its focus).
 * @param {HTMLTableSectionElement} tbody
 * @param {Map<string, { version: number, tr: HTMLTableRowElement }>} rows
 * @param {Review[]} reviews
 * @param {Set<string>} fresh
 * @param {(review: Review) => HTMLTableRowElement} build
 */
function reconcile(tbody, rows, reviews, fresh, build) {
  const wanted = new Set(reviews.map((r) => r.id))
  for (const [id, { tr }] of rows) {
    if (wanted.has(id)) continue
    tr.remove()
    rows.delete(id)
  }
  /** @type {ChildNode | null} */
  let cursor = tbody.firstChild
  for (const review of reviews) {
    const known = rows.get(review.id)
    let tr = known?.tr
    if (!known || known.version !== review.version) {
      const built = build(review)
      if (fresh.has(review.id)) built.classList.add('fresh')
      if (known) known.tr.replaceWith(built)
      if (cursor === known?.tr) cursor = built
      rows.set(review.id, { version: review.version, tr: built })
      tr = built
    }
    if (tr === cursor) cursor = cursor.nextSibling
    else if (tr) tbody.insertBefore(tr, cursor)
  }
}

/**
 * @param {Review} r
 * @param {(review: Review, action: 'approve' | 'deny', reason: string) => Promise<void>} decide
 */
function reviewRow(r, decide) {
  const s = r.summary
  const request = [`${s.endpoint}${s.model ? ` · ${s.model}` : ''}`, s.skills.length ? ` · skills ${s.skills.join(', ')}` : '', s.tools.length ? ` · tools ${s.tools.join(', ')}` : '']
  return h(
    'tr',
    { 'data-id': r.id },
    h('td', {}, time(r.createdAt), h('br', {}), h('a', { class: 'mono', href: `#/reviews/${enc(r.id)}` }, r.id)),
    h('td', { class: 'mono' }, r.principal),
    h('td', {}, r.rule),
    h('td', {}, request, h('br', {}), h('a', { href: `#/audit/${enc(s.requestId)}`, 'aria-label': `Audit record of ${r.id}` }, 'audit record')),
    h('td', { class: 'mono' }, r.requester.subject, jobLine(s.source)),
    h('td', {}, time(r.expiresAt)),
    h('td', {}, tag(r.state)),
    h('td', {}, r.state === 'pending' ? decisionControls(r, decide) : decided(r)),
  )
}

/**
 * The CI job behind a request (repository, workflow, run), what an approver decides on.
 * @param {Review['summary']['source']} source
 */
function jobLine(source) {
  const parts = [source?.repository, source?.workflow && `workflow ${source.workflow}`, source?.run && `run ${source.run}`].filter(Boolean)
  return parts.length === 0 ? '' : [h('br', {}), h('span', { class: 'hint' }, parts.join(' · '))]
}

/**
 * @param {Review} r
 * @param {(review: Review, action: 'approve' | 'deny', reason: string) => Promise<void>} decide
 */
export function decisionControls(r, decide) {
  const reason = h('input', { id: `reason-${r.id}`, name: 'reason', maxlength: 1000, size: 16, placeholder: 'optional' })
  /** @param {'approve' | 'deny'} action */
  const act = (action) => async () => {
    for (const b of buttons) b.disabled = true
    await decide(r, action, reason.value.trim())
    for (const b of buttons) b.disabled = false
  }
  const buttons = [
    h('button', { type: 'button', 'data-action': 'approve', 'aria-label': `Approve ${r.id} (${r.principal})`, onclick: act('approve') }, 'Approve'),
    h('button', { type: 'button', class: 'danger', 'data-action': 'deny', 'aria-label': `Deny ${r.id} (${r.principal})`, onclick: act('deny') }, 'Deny'),
  ]
  return h('div', { class: 'actions' }, h('label', { for: reason.id, class: 'visually-hidden' }, `Reason for ${r.id}`), reason, ...buttons)
}

/** @param {Review} r */
export function decided(r) {
  if (r.state === 'expired') return h('span', { class: 'hint' }, 'expired undecided')
  return [r.approver ? `by ${r.approverName ? `${r.approverName} (${r.approver})` : r.approver}` : '', r.decidedAt ? [' at ', time(r.decidedAt)] : '', r.reason ? [h('br', {}), `“${r.reason}”`] : '', r.grantId ? [h('br', {}), h('span', { class: 'mono hint' }, r.grantId)] : '']
}
