// @ts-check
/* global document */
import { call } from '../api.js'
import { facts, field, h, json, message, replace, tag } from '../dom.js'
import { explainSample } from '../explain-sample.js'

/**
 * Policy explain playground: a token's claims and a request, as JSON, through the running
 * policy (`POST /admin/api/policy/explain`), showing the decision, the rule and every reason. The
 * inputs stay in the page (not the URL): claims can be sensitive.
 * @param {import('../main.js').ViewContext} ctx
 */
export async function explainView(ctx) {
  document.title = 'Policy explain · skillgate console'
  const issuer = h('select', { id: 'x-issuer' }, h('option', { value: '' }, 'from claims.iss'))
  const claims = h('textarea', { id: 'x-claims', rows: 9, spellcheck: 'false' })
  const request = h('textarea', { id: 'x-request', rows: 12, spellcheck: 'false' })
  const result = h('div', { id: 'explain-result', 'aria-live': 'polite' })
  claims.value = JSON.stringify({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1234567' }, null, 2)
  request.value = JSON.stringify({ method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] } }, null, 2)
  const form = h(
    'form',
    { class: 'panel filters', 'aria-label': 'Explain a decision', onsubmit: (/** @type {Event} */ e) => void submit(e) },
    field('Issuer', issuer),
    field('Token claims (JSON)', claims, 'The verified claims of a workload token: iss, sub and the claims your rules match.'),
    field('Request (JSON)', request, '{ method, path, body, headers? }: the shape of policy explain --request and of test cases; headers may carry skillgate-rule.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Explain')),
  )
  replace(ctx.root, h('h1', {}, 'Policy explain'), h('p', { class: 'hint' }, 'Asks the running policy; nothing is sent upstream and nothing is recorded.'), form, result)
  await prefill(issuer, claims, request, ctx.signal)

  /** @param {Event} event */
  async function submit(event) {
    event.preventDefault()
    const parsedClaims = parseJson('Token claims', claims.value)
    const parsedRequest = parseJson('Request', request.value)
    if (!parsedClaims.ok || !parsedRequest.ok) {
      replace(result, message('error', (parsedClaims.ok ? '' : parsedClaims.error) || (parsedRequest.ok ? '' : parsedRequest.error)))
      ;(parsedClaims.ok ? request : claims).focus()
      return
    }
    replace(result, h('p', { class: 'hint' }, 'Asking the policy…'))
    try {
      /** @type {Explanation} */
      const x = await call('POST', '/admin/api/policy/explain', { claims: parsedClaims.value, request: parsedRequest.value, ...(issuer.value ? { issuer: issuer.value } : {}) })
      replace(result, explanationView(x))
    } catch (error) {
      replace(result, message('error', `The gateway refused: ${error instanceof Error ? error.message : String(error)}`))
    }
  }
}

/** @param {Explanation} x */
function explanationView(x) {
  const d = x.decision
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'x-h' },
    h('h2', { id: 'x-h' }, 'Decision: ', tag(d.effect)),
    h('p', { class: 'hint' }, 'As a test case: ', h('code', {}, `expect: { decision: ${d.effect}${d.rule ? `, rule: ${d.rule}` : ''} }`)),
    facts([
      ['issuer', x.issuer],
      ['rule', d.rule ?? '—'],
      ['principal', d.principal ?? '—'],
      ['endpoint', x.endpoint.name],
      ['denied by', d.deniedBy ? h('code', {}, d.deniedBy.code) : undefined],
    ]),
    h('h3', {}, 'Reasons'),
    h('ul', { class: 'reasons', id: 'explain-reasons' }, d.reasons.map((r) => h('li', {}, h('code', {}, r.code), r.detail ? `: ${r.detail}` : ''))),
    h('h3', {}, 'Explanation'),
    h('pre', { id: 'explain-text' }, x.text),
    h('details', {}, h('summary', {}, 'Request facts'), json(x.facts)),
  )
}

/**
 * Issuer ids from the running configuration, and a first example its own policy allows (the
 * first allow rule's issuer, claims and a request it grants); the static example stays otherwise.
 * @param {HTMLSelectElement} issuer
 * @param {HTMLTextAreaElement} claims
 * @param {HTMLTextAreaElement} request
 * @param {AbortSignal} signal
 */
async function prefill(issuer, claims, request, signal) {
  try {
    /** @type {import('../explain-sample.js').SampleConfig} */
    const config = await call('GET', '/admin/api/config', undefined, { signal })
    for (const i of config.issuers ?? []) issuer.appendChild(h('option', { value: i.id }, `${i.id} (${i.issuer})`))
    const sample = explainSample(config)
    if (!sample) return
    claims.value = JSON.stringify(sample.claims, null, 2)
    request.value = JSON.stringify(sample.request, null, 2)
  } catch {
    // The playground works without the list: the issuer is then taken from claims.iss.
  }
}

/**
 * @param {string} label
 * @param {string} text
 * @returns {{ ok: true, value: unknown } | { ok: false, error: string }}
 */
function parseJson(label, text) {
  try {
    const value = JSON.parse(text)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `${label}: expected a JSON object.` }
    return { ok: true, value }
  } catch (error) {
    return { ok: false, error: `${label} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
}
