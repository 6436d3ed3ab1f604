// @ts-check
/* global document */
import { call, enc } from '../api.js'
import { facts, h, json, message, replace, tag, time } from '../dom.js'
import { createPlayer } from '../replay.js'

/**
 * One audit record: who, what, the decision and every reason, usage and latencies, mask hits, the
 * masked request and response, and the replay player for a recorded stream. Everything shown came
 * from the gateway's store and may hold attacker-influenced text; it is rendered as text only.
 * @param {import('../main.js').ViewContext} ctx
 */
export async function auditDetailView(ctx) {
  const id = ctx.match[0] ?? ''
  document.title = `Record ${id} · skillgate console`
  replace(ctx.root, h('p', { class: 'hint' }, 'Loading…'))
  /** @type {AuditRecord} */
  let record
  try {
    record = await call('GET', `/admin/api/audit/${enc(id)}`, undefined, { signal: ctx.signal })
  } catch (error) {
    if (!ctx.signal.aborted) replace(ctx.root, h('h1', {}, 'Audit record'), message('error', `Could not load record ${id}: ${error instanceof Error ? error.message : String(error)}`), h('p', {}, h('a', { href: '#/audit' }, 'Back to the audit')))
    return
  }
  const r = record
  replace(
    ctx.root,
    h('p', {}, h('a', { href: '#/audit' }, '← Audit search')),
    h('h1', {}, 'Audit record ', h('span', { class: 'mono' }, r.id)),
    h('div', { class: 'grid-2' }, summary(r), decisionPanel(r)),
    h('div', { class: 'grid-2' }, usagePanel(r), maskingPanel(r)),
    replayPanel(r, ctx.signal),
    h('section', { class: 'panel', 'aria-labelledby': 'req-h' }, h('h2', { id: 'req-h' }, 'Request (masked)'), h('p', { class: 'hint' }, `${r.request.method} ${r.request.path} · ${r.request.bytes} bytes`), bodyView(r, r.request.body)),
    h('section', { class: 'panel', 'aria-labelledby': 'res-h' }, h('h2', { id: 'res-h' }, 'Response (masked)'), responseView(r)),
    h('section', { class: 'panel', 'aria-labelledby': 'chain-h' }, h('h2', { id: 'chain-h' }, 'Hash chain'), facts([['previous hash', h('code', {}, r.prevHash)], ['hash', h('code', {}, r.hash)]])),
  )
}

/** @param {AuditRecord} r */
function summary(r) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sum-h' },
    h('h2', { id: 'sum-h' }, 'Summary'),
    facts([
      ['principal', h('span', { class: 'mono' }, r.principal ?? '—')],
      ['issuer', r.issuer],
      ['subject', h('span', { class: 'mono' }, r.sub ?? '—')],
      ['endpoint', r.endpoint],
      ['model', r.model],
      ['skills', r.skills.join(', ') || '—'],
      ['tools', r.tools.join(', ') || '—'],
      ['container', r.containerId],
      ['client session', r.clientSession ? h('a', { class: 'mono', href: `#/sessions/${enc(r.clientSession)}${r.principal ? `?principal=${enc(r.principal)}` : ''}` }, r.clientSession) : undefined],
      ['status', r.status === null ? '—' : String(r.status)],
      ['outcome', tag(r.outcome)],
      ['error', r.error ?? undefined],
      ['upstream request id', r.upstreamRequestId],
      ['started', time(r.time.start)],
      ['first byte', time(r.time.firstByte)],
      ['ended', time(r.time.end)],
      ['claims', claimsView(r.claims)],
    ]),
  )
}

/** @param {AuditRecord} r */
function decisionPanel(r) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'dec-h' },
    h('h2', { id: 'dec-h' }, 'Decision'),
    facts([
      ['decision', tag(r.decision)],
      ['rule', r.rule],
      ['review', r.reviewId ? h('a', { class: 'mono', href: `#/reviews/${enc(r.reviewId)}` }, r.reviewId) : undefined],
    ]),
    h('h3', {}, 'Reasons'),
    r.reasons.length === 0 ? h('p', { class: 'hint' }, 'none recorded') : h('ul', { class: 'reasons' }, r.reasons.map((reason) => h('li', {}, h('code', {}, reason.code), reason.detail ? `: ${reason.detail}` : ''))),
  )
}

/** Token times (seconds since the epoch) are shown as UTC times too, like every time in the console. */
const epochClaims = new Set(['exp', 'iat', 'nbf', 'auth_time'])

/** @param {Record<string, unknown>} claims */
function claimsView(claims) {
  const entries = Object.entries(claims)
  if (entries.length === 0) return h('span', { class: 'hint' }, '—')
  return facts(
    entries.map(([name, value]) => [
      name,
      epochClaims.has(name) && typeof value === 'number' ? h('span', {}, time(new Date(value * 1000).toISOString()), ` (${value})`) : h('span', { class: 'mono' }, String(value)),
    ]),
  )
}

/** @param {AuditRecord} r */
function usagePanel(r) {
  const u = r.usage
  const ms = (/** @type {number | null | undefined} */ v) => (v === null || v === undefined ? '—' : `${Math.round(v)} ms`)
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'use-h' },
    h('h2', { id: 'use-h' }, 'Usage and latency'),
    facts([
      ['input tokens', u ? String(u.inputTokens) : '—'],
      ['output tokens', u ? String(u.outputTokens) : '—'],
      ['cache write / read', u ? `${u.cacheCreationInputTokens} / ${u.cacheReadInputTokens}` : '—'],
      ['total', ms(r.latency?.totalMs)],
      ['first byte', ms(r.latency?.firstByteMs)],
      ['upstream', ms(r.latency?.upstreamMs)],
    ]),
  )
}

/** @param {AuditRecord} r */
function maskingPanel(r) {
  /** @param {Record<string, number>} hits */
  const list = (hits) => {
    const entries = Object.entries(hits)
    return entries.length === 0 ? 'none' : h('ul', { class: 'reasons' }, entries.map(([name, n]) => h('li', {}, h('code', {}, name), ` × ${n}`)))
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'mask-h' },
    h('h2', { id: 'mask-h' }, 'Masking'),
    facts([
      ['content stored', r.content],
      ['request hits', list(r.maskHits.request)],
      ['response hits', list(r.maskHits.response)],
    ]),
  )
}

/**
 * @param {AuditRecord} r
 * @param {AbortSignal} signal
 */
function replayPanel(r, signal) {
  if (r.response?.kind !== 'sse') return null
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'replay-h' },
    h('h2', { id: 'replay-h' }, 'Replay'),
    h('p', { class: 'hint' }, 'Re-renders the stream as the client received it (masked), with its recorded timing.', r.response.truncated ? ' The event log was truncated; the assembled message below is complete.' : ''),
    createPlayer(r.response.events, signal),
  )
}

/**
 * @param {AuditRecord} r
 * @param {unknown} body
 */
function bodyView(r, body) {
  if (r.endpoint === 'admin') return h('p', { class: 'hint' }, 'An admin action: no request body; what was done and to what is in the reasons.')
  if (r.content === 'metadata') return h('p', { class: 'hint' }, 'Not stored: this record keeps metadata only (audit.content: metadata).')
  if (body === null || body === undefined) return h('p', { class: 'hint' }, 'No JSON body.')
  return json(body)
}

/** @param {AuditRecord} r */
function responseView(r) {
  const res = r.response
  if (!res) return h('p', { class: 'hint' }, noResponse(r))
  const about = h('p', { class: 'hint' }, `${res.kind === 'sse' ? 'stream' : res.kind} · ${res.contentType ?? 'no content type'} · ${res.bytes} bytes`)
  if (res.kind === 'opaque') return [about, h('p', { class: 'hint' }, r.content === 'metadata' ? 'Body not stored: this record keeps metadata only.' : 'Body not stored: not JSON or text.')]
  if (res.kind === 'json') return [about, bodyView(r, res.body)]
  return [about, h('h3', {}, 'Assembled message'), bodyView(r, res.message), h('details', {}, h('summary', {}, `Event log (${res.events.length} events)`), h('pre', {}, res.events.map((e) => `+${e.t} ms  ${e.event}  ${e.data}`).join('\n')))]
}

/** Why a record has no response, said for what happened rather than guessed. @param {AuditRecord} r */
function noResponse(r) {
  if (r.endpoint === 'admin') return `An admin action by ${actorText(r)}, done by the gateway itself: nothing went upstream.`
  if (r.outcome === 'open') return 'No response yet (in flight, or lost to a crash).'
  if (r.outcome === 'denied') return 'Refused by the gateway before it went upstream.'
  if (r.outcome === 'error') return 'The call failed before a response arrived.'
  if (r.outcome === 'interrupted') return 'The call was interrupted before a response arrived.'
  return 'No response was recorded.'
}

/** The person or named token behind an admin action: name, e-mail and the id the records use. @param {AuditRecord} r */
export function actorText(r) {
  const name = typeof r.claims.name === 'string' ? r.claims.name : undefined
  const email = typeof r.claims.email === 'string' ? ` <${r.claims.email}>` : ''
  const id = r.principal ?? 'an admin'
  return name === undefined ? id : `${name}${email} (${id})`
}
