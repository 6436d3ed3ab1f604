// @ts-check
/* global document */
import { call, enc, query } from '../api.js'
import { h, message, plural, replace, tag, time } from '../dom.js'
import { createPlayer } from '../replay.js'

/**
 * One client session (Claude Code's `x-claude-code-session-id`, kept as `clientSession`): every
 * turn of it, oldest first, and one replay of all its streams in order with their recorded timing
 * (the pauses between turns included). The id is chosen by the client, so the view is scoped to a
 * principal when the link names one.
 * @param {import('../main.js').ViewContext} ctx
 */
export async function sessionView(ctx) {
  const clientSession = ctx.match[0] ?? ''
  const principal = ctx.params.get('principal') ?? undefined
  document.title = `Session ${clientSession} · skillgate console`
  replace(ctx.root, h('p', { class: 'hint' }, 'Loading…'))
  /** @type {AuditPage} */
  let page
  try {
    page = await call('GET', `/admin/api/audit${query({ clientSession, principal, limit: 1000 })}`, undefined, { signal: ctx.signal })
  } catch (error) {
    if (!ctx.signal.aborted) replace(ctx.root, h('h1', {}, 'Client session'), message('error', `Could not load session ${clientSession}: ${error instanceof Error ? error.message : String(error)}`))
    return
  }
  const turns = [...page.records].reverse()
  replace(
    ctx.root,
    h('p', {}, h('a', { href: '#/audit' }, '← Audit search')),
    h('h1', {}, 'Client session ', h('span', { class: 'mono' }, clientSession)),
    h('p', { class: 'hint', role: 'status' }, turns.length === 0 ? 'No records of this session.' : `${plural(turns.length, 'turn')}${principal ? ` of ${principal}` : ''}, oldest first.`),
    turns.length === 0 ? null : turnTable(turns),
    turns.length === 0 ? null : h('section', { class: 'panel', 'aria-labelledby': 'session-replay-h' }, h('h2', { id: 'session-replay-h' }, 'Replay the session'), h('p', { class: 'hint' }, 'Every recorded stream of the session in order, as the client received it (masked), with the recorded pauses.'), createPlayer(sessionEvents(turns), ctx.signal)),
  )
}

/** @param {AuditRecord[]} turns */
function turnTable(turns) {
  return h(
    'table',
    { id: 'session-turns' },
    h('caption', { class: 'visually-hidden' }, 'Turns of the session'),
    h('thead', {}, h('tr', {}, ['#', 'Time (UTC)', 'Principal', 'Endpoint', 'Model', 'Decision', 'Status', 'Record'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      turns.map((r, i) =>
        h(
          'tr',
          { 'data-id': r.id },
          h('td', {}, String(i + 1)),
          h('td', {}, time(r.time.start)),
          h('td', { class: 'mono' }, r.principal ?? '—'),
          h('td', {}, r.endpoint),
          h('td', {}, r.model ?? '—'),
          h('td', {}, tag(r.decision)),
          h('td', {}, r.status ?? '—'),
          h('td', { class: 'mono' }, h('a', { href: `#/audit/${enc(r.id)}` }, r.id)),
        ),
      ),
    ),
  )
}

/**
 * The turns' event logs on one time line (offsets from the first turn's start), each turn announced
 * by a `skillgate_turn` event the player shows as a heading.
 * @param {AuditRecord[]} turns
 * @returns {AuditStreamEvent[]}
 */
export function sessionEvents(turns) {
  const origin = Date.parse(turns[0]?.time.start ?? '')
  return turns.flatMap((r, i) => {
    const at = Date.parse(r.time.start) - origin
    const heading = { t: at, event: 'skillgate_turn', data: JSON.stringify({ turn: i + 1, id: r.id, model: r.model, status: r.status }) }
    const events = r.response?.kind === 'sse' ? r.response.events.map((e) => ({ ...e, t: at + e.t })) : []
    return [heading, ...events]
  })
}
