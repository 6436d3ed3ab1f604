// @ts-check
/* global document */
import { h, replace } from './dom.js'

/**
 * The replay player: re-renders a recorded stream from the record's event log (the masked events
 * the client received, each with its offset `t` from the request's start), with the original
 * timing scaled by a speed. Client-side rather than `GET …/replay` SSE because pause, restart and
 * a speed change mid-way need no new request, and the record is already loaded. Text is appended
 * to Text nodes, never parsed as markup.
 */

const SPEEDS = [0.5, 1, 2, 4, 10]

/**
 * @param {AuditStreamEvent[]} events
 * @param {AbortSignal} signal  stops the timer when the view goes away
 * @returns {HTMLElement}
 */
export function createPlayer(events, signal) {
  const player = new Player(events)
  signal.addEventListener('abort', () => player.stop())
  return player.root
}

/** @typedef {'ready' | 'playing' | 'paused' | 'finished'} PlayerState */

class Player {
  /** @param {AuditStreamEvent[]} events */
  constructor(events) {
    this.events = events
    this.next = 0
    this.rate = 1
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined
    this.screen = h('div', { class: 'player-screen', id: 'replay-screen', 'aria-label': 'Replayed answer', role: 'region' })
    this.toggle = h('button', { type: 'button', id: 'replay-toggle', onclick: () => (this.state === 'playing' ? this.pause() : this.play()) }, 'Play')
    this.speed = h('select', { id: 'replay-speed', onchange: () => (this.rate = Number(this.speed.value)) }, SPEEDS.map((s) => h('option', { value: s, selected: s === 1 }, `${s}×`)))
    this.progress = h('progress', { max: Math.max(events.length, 1), value: 0, 'aria-label': 'Replay progress' })
    this.position = h('span', { class: 'hint', id: 'replay-position' })
    const controls = h(
      'div',
      { class: 'player-controls' },
      this.toggle,
      h('button', { type: 'button', class: 'secondary', onclick: () => this.restart() }, 'Restart'),
      h('button', { type: 'button', class: 'secondary', onclick: () => this.showAll() }, 'Show all'),
      h('label', { for: 'replay-speed' }, 'Speed'),
      this.speed,
      this.progress,
      this.position,
    )
    this.root = h('div', { class: 'player', id: 'replay', 'data-state': 'ready' }, controls, this.screen)
    /** @type {PlayerState} */
    this.state = 'ready'
    this.render = createRenderer(this.screen)
    this.update()
  }

  /** @param {PlayerState} value */
  setState(value) {
    this.state = value
    this.root.setAttribute('data-state', value)
    this.toggle.textContent = value === 'playing' ? 'Pause' : 'Play'
    this.screen.setAttribute('aria-busy', String(value === 'playing'))
  }

  play() {
    if (this.next >= this.events.length) this.restart()
    this.setState('playing')
    this.step()
  }

  /** Shows the next event, then waits the recorded gap to the one after it, scaled by the speed. */
  step() {
    const event = this.events[this.next]
    if (!event) return this.finish()
    this.render(event)
    this.next += 1
    this.update()
    const following = this.events[this.next]
    if (!following) return this.finish()
    this.timer = setTimeout(() => this.step(), Math.max(0, (following.t - event.t) / this.rate))
  }

  stop() {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  pause() {
    this.stop()
    this.setState('paused')
  }

  finish() {
    this.timer = undefined
    this.render.done()
    this.setState('finished')
  }

  restart() {
    this.stop()
    this.next = 0
    this.render = createRenderer(this.screen)
    this.setState('ready')
    this.update()
  }

  showAll() {
    this.stop()
    for (; this.next < this.events.length; this.next++) this.render(/** @type {AuditStreamEvent} */ (this.events[this.next]))
    this.update()
    this.finish()
  }

  update() {
    this.progress.value = this.next
    const total = this.events.at(-1)?.t ?? 0
    const at = this.next === 0 ? 0 : (this.events[this.next - 1]?.t ?? 0)
    this.position.textContent = `event ${this.next} of ${this.events.length} · ${(at / 1000).toFixed(2)} s of ${(total / 1000).toFixed(2)} s`
  }
}

/**
 * Turns events into blocks on the screen, one per content block, like a client would show them.
 * @param {HTMLElement} screen
 */
function createRenderer(screen) {
  replace(screen)
  /** @type {Map<number, Text>} */
  const texts = new Map()
  /** @type {HTMLElement | undefined} */
  let cursor
  /** @param {AuditStreamEvent} event */
  const render = (event) => {
    const data = parse(event.data)
    const index = typeof data?.index === 'number' ? data.index : -1
    if (event.event === 'content_block_start') {
      const block = /** @type {Record<string, unknown>} */ (data?.content_block ?? {})
      const { section, text } = blockView(block)
      screen.appendChild(section)
      texts.set(index, text)
      moveCursor(text.parentElement ?? undefined)
    } else if (event.event === 'content_block_delta') {
      const delta = /** @type {Record<string, unknown>} */ (data?.delta ?? {})
      const piece = delta.text ?? delta.thinking ?? delta.partial_json ?? (delta.type === 'citations_delta' ? ' [citation]' : '')
      if (typeof piece === 'string') texts.get(index)?.appendData(piece)
    } else if (event.event === 'content_block_stop') {
      moveCursor(undefined)
    } else if (event.event === 'message_delta') {
      const reason = /** @type {Record<string, unknown>} */ (data?.delta ?? {}).stop_reason
      if (typeof reason === 'string') screen.appendChild(h('p', { class: 'hint' }, `stop_reason: ${reason}`))
    } else if (event.event === 'skillgate_turn') {
      // A session replay (views/session.js) announces each turn.
      const turn = /** @type {Record<string, unknown>} */ (data ?? {})
      screen.appendChild(h('h3', { class: 'player-turn' }, `Turn ${String(turn.turn ?? '?')}${typeof turn.model === 'string' ? ` · ${turn.model}` : ''}`))
    } else if (event.event === 'error') {
      screen.appendChild(h('p', { class: 'message error' }, `stream error: ${JSON.stringify(data?.error ?? event.data)}`))
    }
  }
  /** @param {HTMLElement | undefined} el */
  const moveCursor = (el) => {
    cursor?.classList.remove('cursor')
    cursor = el
    cursor?.classList.add('cursor')
  }
  render.done = () => moveCursor(undefined)
  return render
}

/** @param {Record<string, unknown>} block */
function blockView(block) {
  const type = String(block.type ?? 'block')
  const name = typeof block.name === 'string' ? ` ${block.name}` : ''
  const isText = type === 'text' || type === 'thinking' || type === 'redacted_thinking'
  const initial = typeof block.text === 'string' ? block.text : typeof block.thinking === 'string' ? block.thinking : ''
  // Tool results arrive whole in content_block_start; tool inputs stream as JSON fragments.
  const whole = type.endsWith('_result') ? JSON.stringify(block.content ?? block, null, 2) : initial
  const text = document.createTextNode(whole)
  const body = isText ? h('p', { class: 'player-text' }, text) : h('pre', { class: 'player-text' }, text)
  const section = h('section', { class: `player-block ${type}`, 'aria-label': `${type}${name}` }, h('h4', {}, `${type}${name}`), body)
  return { section, text }
}

/** @param {string} text @returns {Record<string, unknown> | undefined} */
function parse(text) {
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' ? value : undefined
  } catch {
    return undefined
  }
}
