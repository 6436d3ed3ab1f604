// @ts-check
/* global document */
import { call, enc, query } from '../api.js'
import { field, h, isoFromUtcInput, message, plural, replace, scrollable, select, tag, time, utcInputValue } from '../dom.js'

/**
 * Audit search: the filters of `GET /admin/api/audit` (AND), kept in the URL so a search can be
 * shared and the back button works; results newest first, with "Load older" paging by cursor.
 * @param {import('../main.js').ViewContext} ctx
 */
export async function auditListView(ctx) {
  document.title = 'Audit · skillgate console'
  const p = ctx.params
  const inputs = {
    principal: h('input', { id: 'f-principal', name: 'principal', value: p.get('principal') ?? '', size: 22, list: 'f-principals', autocomplete: 'off' }),
    actor: h('input', { id: 'f-actor', name: 'actor', value: p.get('actor') ?? '', size: 22 }),
    rule: h('input', { id: 'f-rule', name: 'rule', value: p.get('rule') ?? '', size: 14 }),
    skill: h('input', { id: 'f-skill', name: 'skill', value: p.get('skill') ?? '', size: 14 }),
    clientSession: h('input', { id: 'f-client-session', name: 'clientSession', value: p.get('clientSession') ?? '', size: 22 }),
    decision: select('f-decision', ['any', 'allow', 'deny', 'approval_required'], p.get('decision') ?? ''),
    outcome: select('f-outcome', ['any', 'completed', 'interrupted', 'denied', 'error', 'open'], p.get('outcome') ?? ''),
    since: h('input', { id: 'f-since', name: 'since', type: 'datetime-local', step: 1, value: utcInputValue(p.get('since')) }),
    until: h('input', { id: 'f-until', name: 'until', type: 'datetime-local', step: 1, value: utcInputValue(p.get('until')) }),
  }
  const principalList = h('datalist', { id: 'f-principals' })
  void fillPrincipals(principalList, ctx.signal)
  const form = h(
    'form',
    { class: 'panel filters', role: 'search', 'aria-label': 'Audit filters', onsubmit: (/** @type {Event} */ e) => search(e) },
    field('Principal', inputs.principal, 'Exact value; type part of it to pick from the principals seen.'),
    principalList,
    field('Actor', inputs.actor, 'What one person or token did: slack:U…, token:<name>, oidc:<issuer>:<sub>.'),
    field('Rule', inputs.rule),
    field('Skill', inputs.skill),
    field('Client session', inputs.clientSession, 'Claude Code session id'),
    field('Decision', inputs.decision),
    field('Outcome', inputs.outcome),
    field('Since (UTC)', inputs.since),
    field('Until (UTC)', inputs.until),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'), h('a', { href: '#/audit' }, 'Clear filters')),
  )
  const results = h('div', { id: 'audit-results' }, h('p', { class: 'hint' }, 'Loading…'))
  const headStatus = h('p', { id: 'audit-head', class: 'hint', role: 'status' }, 'Checking the last signed chain head…')
  void showLatestHead(headStatus, ctx.signal)
  replace(ctx.root, h('h1', {}, 'Audit'), headStatus, form, results)

  /** @param {Event} event */
  function search(event) {
    event.preventDefault()
    const values = {
      principal: inputs.principal.value.trim(),
      actor: inputs.actor.value.trim(),
      rule: inputs.rule.value.trim(),
      skill: inputs.skill.value.trim(),
      clientSession: inputs.clientSession.value.trim(),
      decision: inputs.decision.value,
      outcome: inputs.outcome.value,
      since: isoFromUtcInput(inputs.since.value),
      until: isoFromUtcInput(inputs.until.value),
    }
    ctx.navigate(`#/audit${query(values)}`)
  }

  const filter = Object.fromEntries(['principal', 'actor', 'rule', 'skill', 'clientSession', 'decision', 'outcome', 'since', 'until'].map((k) => [k, p.get(k) ?? undefined]))
  await showPage(results, filter, ctx.signal)
}

/**
 * @param {HTMLElement} results
 * @param {Record<string, string | undefined>} filter
 * @param {AbortSignal} signal
 */
async function showPage(results, filter, signal) {
  const tbody = h('tbody', {})
  const more = h('div', { class: 'actions' })
  const count = h('p', { class: 'hint', role: 'status' })
  let shown = 0
  /** @param {string | null} cursor */
  const load = async (cursor) => {
    /** @type {AuditPage} */
    const page = await call('GET', `/admin/api/audit${query({ ...filter, limit: 50, cursor })}`, undefined, { signal })
    for (const record of page.records) tbody.appendChild(row(record))
    shown += page.records.length
    count.textContent = shown === 0 ? 'No records match.' : `${plural(shown, 'record')} shown, newest first.`
    const older = page.nextCursor
    replace(more, older ? h('button', { type: 'button', class: 'secondary', onclick: () => void load(older).catch(fail) }, 'Load older records') : null)
  }
  /** @param {unknown} error */
  const fail = (error) => {
    if (!signal.aborted) replace(results, message('error', `Could not load the audit: ${error instanceof Error ? error.message : String(error)}`))
  }
  const table = h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, 'Audit records'),
    h('thead', {}, h('tr', {}, ['Time (UTC)', 'Principal', 'Rule', 'Decision', 'Outcome', 'Status', 'Model', 'Skills', 'Record'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  )
  try {
    await load(null)
    replace(results, count, scrollable(table), more)
  } catch (error) {
    fail(error)
  }
}

/** @param {AuditRecord} r */
function row(r) {
  return h(
    'tr',
    { 'data-id': r.id },
    h('td', {}, time(r.time.start)),
    h('td', { class: 'mono' }, r.principal ?? '—'),
    h('td', {}, r.rule ?? '—'),
    h('td', {}, tag(r.decision)),
    h('td', {}, tag(r.outcome)),
    h('td', {}, r.status ?? '—'),
    h('td', {}, r.model ?? r.endpoint),
    h('td', {}, r.skills.join(', ') || '—'),
    h('td', { class: 'mono' }, h('a', { href: `#/audit/${enc(r.id)}`, 'aria-label': `Open record ${r.id}` }, r.id)),
  )
}

/**
 * One line: the newest signed chain head (docs/audit.md §6a) and whether it verifies against the
 * gateway's keys and the store now. Proof against truncation needs `audit verify --heads`.
 * @param {HTMLElement} line
 * @param {AbortSignal} signal
 */
async function showLatestHead(line, signal) {
  try {
    const status = await call('GET', '/admin/api/audit/heads/latest', undefined, { signal })
    if (signal.aborted) return
    if (!status.head) return replace(line, `Signed chain heads: ${status.detail}.`)
    const { position, time: at, writer } = status.head
    const mark = status.verifies ? '✔ verifies' : `✖ does not verify: ${status.detail}`
    const stamp = status.timestamp
    const trusted = !stamp ? '' : stamp.verifies ? ` Trusted time: existed by ${stamp.time} (${stamp.tsa}) ✔.` : ` Trusted time: ✖ ${stamp.detail}.`
    replace(line, `Last signed chain head: position ${position}, ${at} (writer ${writer}) — ${mark}.${trusted}`)
    line.className = status.verifies && (!stamp || stamp.verifies) ? 'hint' : 'hint bad'
  } catch (error) {
    if (!signal.aborted) replace(line, `Could not check the signed chain head: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * The principals seen in the audit, as suggestions for the Principal filter: the API filters by
 * exact value, and the browser's list matches any part of what one types.
 * @param {HTMLElement} list
 * @param {AbortSignal} signal
 */
async function fillPrincipals(list, signal) {
  try {
    /** @type {{ principals: { principal: string }[] }} */
    const seen = await call('GET', '/admin/api/principals?scan=2000', undefined, { signal })
    for (const p of seen.principals) list.appendChild(h('option', { value: p.principal }))
  } catch {
    // Suggestions only: the filter works without them.
  }
}
