// @ts-check
/* global document */
import { call, enc } from '../api.js'
import { facts, h, message, replace, tag, time } from '../dom.js'
import { POLL_MS } from '../live.js'
import { decided, decider, decisionControls } from './reviews.js'

/**
 * One review, where a notification's link lands (`/ui/reviews/<id>` redirects here): what asked,
 * and approve/deny while it is pending. It re-reads the review while pending, so a decision taken
 * elsewhere (the CLI, another approver) or its expiry shows up without a reload.
 * @param {import('../main.js').ViewContext} ctx
 */
export async function reviewDetailView(ctx) {
  const id = ctx.match[0] ?? ''
  document.title = `Review ${id} · skillgate console`
  const status = h('div', { id: 'review-status' })
  const body = h('div', {}, h('p', { class: 'hint' }, 'Loading…'))
  replace(ctx.root, h('p', {}, h('a', { href: '#/reviews' }, '← Reviews')), h('h1', {}, 'Review ', h('span', { class: 'mono' }, id)), status, body)
  const decide = decider(ctx, status, () => {
    clearTimeout(timer)
    void load()
  })
  let version = -1
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer
  ctx.signal.addEventListener('abort', () => clearTimeout(timer))

  const load = async () => {
    try {
      /** @type {Review} */
      const review = await call('GET', `/admin/api/reviews/${enc(id)}`, undefined, { signal: ctx.signal })
      if (review.version !== version) replace(body, reviewFacts(review, decide))
      version = review.version
      if (review.state === 'pending' && !ctx.signal.aborted) timer = setTimeout(load, POLL_MS)
    } catch (error) {
      if (!ctx.signal.aborted) replace(body, message('error', `Could not load review ${id}: ${error instanceof Error ? error.message : String(error)}`))
    }
  }

  await load()
}

/**
 * @param {Review} r
 * @param {(review: Review, action: 'approve' | 'deny', reason: string) => Promise<void>} decide
 */
function reviewFacts(r, decide) {
  const s = r.summary
  return h(
    'section',
    { class: 'panel' },
    facts([
      ['state', tag(r.state)],
      ['principal', h('span', { class: 'mono' }, r.principal)],
      ['rule', r.rule],
      ['requester', h('span', { class: 'mono' }, `${r.requester.subject} (${r.requester.issuer})`)],
      ['repository', s.source?.repository],
      ['workflow', s.source?.workflow],
      ['ref', s.source?.ref],
      ['run', runLink(s.source)],
      ['endpoint', s.endpoint],
      ['model', s.model],
      ['skills', s.skills.join(', ') || '—'],
      ['tools', s.tools.join(', ') || '—'],
      ['request', h('a', { href: `#/audit/${enc(s.requestId)}` }, s.requestId)],
      ['grant', r.grantId ? h('a', { class: 'mono', href: '#/grants' }, r.grantId) : undefined],
      ['asked', time(r.createdAt)],
      ['expires', time(r.expiresAt)],
      ['decision', r.state === 'pending' ? decisionControls(r, decide) : decided(r)],
    ]),
  )
}

/**
 * The CI run, linked when the gateway built a link from the token's claims (https only).
 * @param {Review['summary']['source']} source
 */
function runLink(source) {
  if (!source?.run) return undefined
  const url = source.runUrl
  return url && url.startsWith('https://') ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, `${source.run} ↗`) : source.run
}
