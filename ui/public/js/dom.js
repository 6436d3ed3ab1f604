// @ts-check
/* global document, Node, HTMLTextAreaElement */
/**
 * The only way the console builds DOM. Strings always become Text nodes, never markup: the audit
 * holds attacker-influenced text (prompts, model output), so nothing from the API may be parsed
 * as HTML. Attributes are set one by one; `href` accepts only in-app links, and event handlers
 * only functions.
 */

/** @typedef {Node | string | number | null | undefined | false | ChildList} Child */
/** @typedef {Array<Child>} ChildList */
/** @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attrs */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (typeof value === 'function') {
      if (!key.startsWith('on')) throw new TypeError(`h(): ${key} cannot take a function`)
      el.addEventListener(key.slice(2), value)
      continue
    }
    if (key.startsWith('on')) throw new TypeError(`h(): inline handler ${key} refused`)
    // In-app links only: a hash route or a same-origin path, never `//host` or a scheme.
    if (key === 'href' && !/^(#|\/(?![/\\])|\.\/)/.test(String(value))) throw new TypeError('h(): only in-app links')
    el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

/**
 * @param {Node} parent
 * @param {Child[]} children
 */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(parent, child)
    else if (child instanceof Node) parent.appendChild(child)
    else parent.appendChild(document.createTextNode(String(child)))
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  el.replaceChildren()
  append(el, children)
}

/** @param {string | null | undefined} iso */
export function time(iso) {
  if (!iso) return h('span', { class: 'hint' }, '—')
  const date = new Date(iso)
  const text = Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`
  return h('time', { datetime: iso, title: iso }, text)
}

/**
 * A coloured word: decision, outcome, review state.
 * @param {string} text
 */
export function tag(text) {
  return h('span', { class: `tag ${text.replace(/[^a-z_]/g, '')}` }, text)
}

/** @param {unknown} value */
export function json(value) {
  return h('pre', {}, value === undefined ? '' : JSON.stringify(value, null, 2))
}

/**
 * A definition list from [term, value] pairs; rows whose value is undefined are left out.
 * @param {[string, Child][]} rows
 */
export function facts(rows) {
  return h('dl', { class: 'facts' }, rows.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]))
}

/**
 * A message box; `kind` error is announced assertively.
 * @param {'ok' | 'error' | 'info'} kind
 * @param {...Child} children
 */
export function message(kind, ...children) {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children)
}

/**
 * A labelled form field. The id ties label and control together for screen readers.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : undefined
  if (hintId) control.setAttribute('aria-describedby', hintId)
  return h('div', { class: `field${control instanceof HTMLTextAreaElement ? ' wide' : ''}` }, h('label', { for: control.id }, label), control, hint ? h('span', { class: 'hint', id: hintId }, hint) : null)
}

/**
 * @param {string} id
 * @param {string[]} options  the first is the "any" choice (value "")
 * @param {string} [value]
 */
export function select(id, options, value = '') {
  return h('select', { id, name: id }, options.map((option, i) => h('option', { value: i === 0 ? '' : option, selected: (i === 0 ? '' : option) === value }, option)))
}

/** @param {string} id @param {number} n */
export const plural = (n, id) => `${n} ${id}${n === 1 ? '' : 's'}`

/**
 * Every time in the console is UTC (shown with a Z); date-time inputs are read and filled as UTC
 * too, so what one types matches what the tables show. ISO → input value:
 * @param {string | null | undefined} iso
 */
export function utcInputValue(iso) {
  if (!iso) return ''
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 19)
}

/** A date-time input's value, read as UTC → ISO 8601, as the API expects. @param {string} value */
export function isoFromUtcInput(value) {
  if (!value) return ''
  const date = new Date(`${value.length === 16 ? `${value}:00` : value}Z`)
  return Number.isNaN(date.getTime()) ? '' : date.toISOString()
}

/** A table that scrolls sideways inside its own box on a narrow screen, not the page. @param {HTMLTableElement} table */
export function scrollable(table) {
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': 'Table (scrolls sideways)', tabindex: 0 }, table)
}
