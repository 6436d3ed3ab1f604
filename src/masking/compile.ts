import { detectors, isDetectorName } from './detectors/index.js'
import { MaskingConfigError, type MaskingConfigIssue } from './errors.js'
import { parseFieldPath, type FieldPath } from './field-path.js'
import { addHits, FIELD_DETECTOR, type WalkContext } from './json-walk.js'
import { maskMessageBuffer, maskMessageValue } from './message.js'
import { compilePatternSet, type PatternSet, type PatternSpec } from './pattern-set.js'
import { visitRequestText } from './request.js'
import { TextScanner } from './scanner.js'
import { isSessionPreview, maskSessionEventValue } from './session-events.js'
import { SseStreamMasker } from './stream.js'
import type { Masker, MaskerOptions, MaskHits, MaskingProfileSpec, RequestFinding } from './types.js'
import { warmUp } from './warm-up.js'

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

interface Collected {
  readonly specs: PatternSpec[]
  readonly custom: Map<string, PatternSpec>
  readonly paths: FieldPath[]
  readonly issues: MaskingConfigIssue[]
}

/**
 * Compiles masking profiles (the union of a rule's `masking:` list) into a Masker. Everything is
 * parsed and compiled here, once, and every problem is reported together in a MaskingConfigError.
 *
 * @example
 * const masker = compileMasker([{ detectors: ['email'] }, { patterns: [{ name: 'ticket', regex: '\\bOPS-[0-9]{1,7}\\b', maxLength: 11 }] }], { thinking: 'keep' })
 * masker.maskText('mail bob@example.com about OPS-42').text // 'mail [REDACTED:email] about [REDACTED:ticket]'
 */
export function compileMasker(profiles: readonly MaskingProfileSpec[], options: MaskerOptions): Masker {
  const collected = collect(profiles)
  const compiled = compilePatternSet(collected.specs)
  for (const problem of compiled.problems) collected.issues.push({ path: problemPath(profiles, problem.name), message: `${problem.name}: ${problem.message}` })
  const requestSets = new Map<string, PatternSet>()
  const resolve = requestSetResolver(collected.custom, requestSets)
  for (const [k, names] of (options.requestDetectors ?? []).entries()) {
    const result = resolve(names)
    if (typeof result === 'string') collected.issues.push({ path: `requests[${k}]`, message: result })
  }
  if (collected.issues.length > 0 || !compiled.set) throw new MaskingConfigError(collected.issues)
  // The audit masks each request with the rule's built-in detectors, or (without a rule masker)
  // with the union of the request sets: compile those sets now too, not inside a first request.
  const builtInNames = collected.specs.filter((s) => isDetectorName(s.name)).map((s) => s.name)
  if (builtInNames.length > 0) resolve(builtInNames)
  if ((options.requestDetectors?.length ?? 0) > 1) resolve(options.requestDetectors!.flat())
  warmUp(compiled.set)
  return buildMasker(compiled.set, collected.paths, options, resolve)
}

function collect(profiles: readonly MaskingProfileSpec[]): Collected {
  const issues: MaskingConfigIssue[] = []
  const wanted = new Set<string>()
  const custom = new Map<string, PatternSpec>()
  const paths = new Map<string, FieldPath>()
  profiles.forEach((profile, p) => {
    const at = profileLabel(profile, p)
    profile.detectors?.forEach((name, i) => {
      if (isDetectorName(name)) wanted.add(name)
      else issues.push({ path: `${at}.detectors[${i}]`, message: `unknown detector "${name}" (known: ${Object.keys(detectors).join(', ')})` })
    })
    profile.patterns?.forEach((pattern, i) => {
      const problem = checkCustomName(pattern.name, custom, pattern.regex, pattern.maxLength)
      if (problem) issues.push({ path: `${at}.patterns[${i}]`, message: problem })
      else custom.set(pattern.name, { name: pattern.name, regex: pattern.regex, maxLength: pattern.maxLength })
    })
    profile.fields?.forEach((source, i) => {
      const parsed = parseFieldPath(source)
      if (typeof parsed === 'string') issues.push({ path: `${at}.fields[${i}]`, message: parsed })
      else paths.set(source, parsed)
    })
  })
  // Registry order first (it breaks ties between equal matches), then custom patterns as listed.
  const builtIn = Object.values(detectors).filter((d) => wanted.has(d.name))
  return { specs: [...builtIn, ...custom.values()], custom, paths: [...paths.values()], issues }
}

function checkCustomName(name: string, seen: ReadonlyMap<string, PatternSpec>, regex: string, maxLength: number): string | undefined {
  if (!NAME.test(name)) return `pattern name "${name}" must be a letter followed by up to 63 letters, digits, "_", "." or "-"`
  if (isDetectorName(name) || name === FIELD_DETECTOR) return `pattern name "${name}" is reserved for a built-in detector`
  const previous = seen.get(name)
  if (previous && (previous.regex !== regex || previous.maxLength !== maxLength)) {
    return `pattern "${name}" is defined twice with different regex or maxLength`
  }
  return undefined
}

function profileLabel(profile: MaskingProfileSpec, index: number): string {
  return profile.name !== undefined ? `profiles.${profile.name}` : `profiles[${index}]`
}

function problemPath(profiles: readonly MaskingProfileSpec[], name: string): string {
  for (const [p, profile] of profiles.entries()) {
    const i = profile.patterns?.findIndex((pattern) => pattern.name === name) ?? -1
    if (i >= 0) return `${profileLabel(profile, p)}.patterns[${i}]`
  }
  return `detectors.${name}`
}

type ResolveSet = (names: readonly string[]) => PatternSet | string

/** Request detector sets: compiled once per distinct set (normally at construction) and memoised. */
function requestSetResolver(custom: ReadonlyMap<string, PatternSpec>, cache: Map<string, PatternSet>): ResolveSet {
  // The stages pass the same list every time (`requests.block`): found by identity, no key to build.
  const byList = new WeakMap<readonly string[], PatternSet>()
  return (names) => {
    const known = byList.get(names)
    if (known) return known
    const key = [...new Set(names)].sort().join('\n')
    const hit = cache.get(key)
    if (hit) {
      byList.set(names, hit)
      return hit
    }
    const unknown = names.filter((n) => !isDetectorName(n) && !custom.has(n))
    if (unknown.length > 0) return `unknown detector ${unknown.map((n) => `"${n}"`).join(', ')}`
    const builtIn = Object.values(detectors).filter((d) => names.includes(d.name))
    const specs = [...builtIn, ...[...custom.values()].filter((c) => names.includes(c.name))]
    const compiled = compilePatternSet(specs)
    if (!compiled.set) return compiled.problems.map((p) => `${p.name}: ${p.message}`).join('; ')
    warmUp(compiled.set)
    cache.set(key, compiled.set)
    byList.set(names, compiled.set)
    return compiled.set
  }
}

export function maskWithSet(set: PatternSet, text: string, hits: MaskHits): string {
  // Most strings hold nothing any detector can match: one pass over the search DFA, no scanner.
  if (text.length === 0 || set.search.cannotMatch(text)) return text
  const scanner = new TextScanner(set, hits)
  const head = scanner.push(text)
  const tail = scanner.end()
  return tail === '' ? head : head + tail
}

function buildMasker(set: PatternSet, paths: readonly FieldPath[], options: MaskerOptions, resolve: ResolveSet): Masker {
  const thinking = options.thinking
  const requestSet = (names: readonly string[]): PatternSet => {
    const result = resolve(names)
    if (typeof result === 'string') throw new MaskingConfigError([{ path: 'requests', message: result }])
    return result
  }
  return {
    maxHoldBack: set.maxHoldBack,
    maskText(text) {
      const hits: MaskHits = {}
      return { text: maskWithSet(set, text, hits), hits }
    },
    maskMessageJson(body) {
      const hits: MaskHits = {}
      const ctx: WalkContext = { hits, maskText: (text) => maskWithSet(set, text, hits) }
      return { ...maskMessageBuffer(body, paths, thinking, ctx), hits }
    },
    maskMessage(message) {
      const hits: MaskHits = {}
      const value = maskMessageValue(message, paths, thinking, { hits, maskText: (text) => maskWithSet(set, text, hits) })
      return { value, changed: value !== message, hits }
    },
    maskSessionEvent(event, hits) {
      if (isSessionPreview(event)) return undefined
      return maskSessionEventValue(event, { hits, maskText: (text) => maskWithSet(set, text, hits) })
    },
    createStreamMasker() {
      return new SseStreamMasker({ set, paths, thinking, maskText: (text, hits) => maskWithSet(set, text, hits) })
    },
    createTextMasker() {
      const hits: MaskHits = {}
      const scanner = new TextScanner(set, hits)
      return { hits, push: (text) => scanner.push(text), end: () => scanner.end() }
    },
    scanRequest(body, names) {
      const scanSet = requestSet(names)
      const hits: MaskHits = {}
      const findings: RequestFinding[] = []
      visitRequestText(
        body,
        (text, path) => {
          if (scanSet.search.cannotMatch(text)) return text
          const local: MaskHits = {}
          maskWithSet(scanSet, text, local)
          const detectors = Object.keys(local)
          if (detectors.length === 0) return text
          const at = path()
          for (const detector of detectors) findings.push({ detector, path: at })
          addHits(hits, local)
          return text
        },
        { keys: true },
      )
      return { hits, findings }
    },
    maskRequest(body, names, options) {
      const maskSet = requestSet(names)
      const hits: MaskHits = {}
      const masked = visitRequestText(body, (text) => maskWithSet(maskSet, text, hits), { forwarded: options?.forwarded ?? true })
      return { body: masked, changed: masked !== body, hits }
    },
  }
}
