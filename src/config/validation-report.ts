import type { z } from 'zod'
import type { ConfigProblem } from './check-semantics.js'

/**
 * What `config validate` says about a file whose shape is wrong: every shape problem as a sentence
 * for a person, and the problems of meaning in the rest of the file, found by checking the file
 * again without the broken parts. Pure: the caller passes the schema and the meaning checks.
 */

type Path = readonly (string | number)[]

export interface ShapeCheck<T> {
  readonly parse: (raw: unknown) => { success: true; data: T } | { success: false; error: z.ZodError }
  /** Meaning checks (and secret resolution) on a value that has the right shape. */
  readonly checkMeaning: (config: T) => ConfigProblem[]
}

/** Rounds of dropping broken parts before giving up on the meaning checks (a list in a list in a list). */
const maxRounds = 4

/**
 * Shape problems first, then problems of meaning found with the broken values dropped: first the
 * broken keys (so defaults apply), then, when a required key is missing, the whole list entry that
 * holds it. A problem about something dropped — at or under it, or naming a dropped entry's id —
 * is left out rather than guessed at. Paths of the remaining problems are the file's own indices.
 */
export function problemsBeyondSchema<T>(raw: unknown, error: z.ZodError, check: ShapeCheck<T>): ConfigProblem[] {
  const problems = zodProblems(error, raw)
  const droppedKeys = problems.map((p) => p.path)
  let pruned = prune(raw, droppedKeys, [])
  for (let round = 0; round < maxRounds; round++) {
    const retry = check.parse(pruned.value)
    if (retry.success) {
      const unreliable = (p: ConfigProblem) => isUnder(p.path, [...droppedKeys, ...pruned.entries]) || pruned.ids.some((id) => p.message.includes(`"${id}"`))
      const further = check.checkMeaning(retry.data).map((p) => ({ ...p, path: pruned.original(p.path) }))
      return [...problems, ...further.filter((p) => !unreliable(p))]
    }
    const entries = retry.error.issues.map((issue) => enclosingEntry(pruned.original(issue.path.filter(isKey))))
    if (entries.some((e) => e === undefined)) return problems
    pruned = prune(raw, droppedKeys, [...pruned.entries, ...(entries as Path[])])
  }
  return problems
}

/** A problem at or under a dropped path, or on an object inside a list entry holding one. */
function isUnder(path: Path, dropped: readonly Path[]): boolean {
  const startsWith = (p: Path, prefix: Path) => prefix.length <= p.length && prefix.every((k, i) => p[i] === k)
  return dropped.some((d) => startsWith(path, d) || (path.length >= 2 && startsWith(d, path)))
}

/** The deepest list entry holding `path` (`rules[2]` for `rules[2].allow.models`), if any. */
function enclosingEntry(path: Path): Path | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'number') return path.slice(0, i + 1)
  return undefined
}

const isKey = (k: PropertyKey): k is string | number => typeof k !== 'symbol'

interface Pruned {
  readonly value: unknown
  /** List entries removed whole (original indices). */
  readonly entries: readonly Path[]
  /** The `id` of each removed entry, so that references to it are not reported as unknown. */
  readonly ids: readonly string[]
  /** A path in the pruned value → the same place in the file. */
  readonly original: (path: Path) => (string | number)[]
}

function prune(raw: unknown, keys: readonly Path[], entries: readonly Path[]): Pruned {
  const copy: unknown = structuredClone(raw)
  for (const path of keys) {
    const parent = at(copy, path.slice(0, -1))
    const last = path.at(-1)
    if (last !== undefined && isRecord(parent)) delete parent[last]
  }
  // Removed indices per list (keyed by the list's path in the file), applied last so indices hold.
  const removed = new Map<string, Set<number>>()
  const ids: string[] = []
  for (const entry of entries) {
    const index = entry.at(-1)
    if (typeof index !== 'number') continue
    const list = JSON.stringify(entry.slice(0, -1))
    removed.set(list, (removed.get(list) ?? new Set()).add(index))
    const id = at(raw, [...entry, 'id'])
    if (typeof id === 'string') ids.push(id)
  }
  for (const [list, indices] of removed) {
    const node = at(copy, JSON.parse(list) as Path)
    if (Array.isArray(node)) {
      const kept = node.filter((_, i) => !indices.has(i))
      node.splice(0, node.length, ...kept)
    }
  }
  const original = (path: Path): (string | number)[] => {
    const out: (string | number)[] = []
    for (const key of path) {
      const indices = removed.get(JSON.stringify(out))
      out.push(typeof key === 'number' && indices ? nthKept(key, indices) : key)
    }
    return out
  }
  return { value: copy, entries, ids, original }
}

/** The file index of the `n`th entry that was kept. */
function nthKept(n: number, removed: ReadonlySet<number>): number {
  let index = -1
  for (let kept = -1; kept < n; ) if (!removed.has(++index)) kept++
  return index
}

function at(node: unknown, path: Path): unknown {
  return path.reduce<unknown>((value, key) => (isRecord(value) ? value[key] : undefined), node)
}

function isRecord(value: unknown): value is Record<string | number, unknown> {
  return typeof value === 'object' && value !== null
}

/** zod issues as sentences for a person; `raw` tells a missing key from a value of the wrong type. */
export function zodProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.filter(isKey)
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"`, hint: 'check the spelling against docs/config.md' }))
    }
    if (issue.code === 'invalid_union') {
      return [{ path, message: issue.message === 'Invalid input' ? 'value has none of the accepted shapes' : issue.message }]
    }
    // zod's default wording ("Invalid input: expected string, received undefined") becomes a sentence; a schema's own message stays.
    if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) return [typeProblem(path, issue.expected, raw)]
    return [{ path, message: issue.message }]
  })
}

function typeProblem(path: (string | number)[], expected: string, raw: unknown): ConfigProblem {
  const key = path.at(-1)
  const parent = at(raw, path.slice(0, -1))
  const missing = isRecord(parent) && key !== undefined && !Object.hasOwn(parent, key)
  const noun = typeWords[expected] ?? expected
  const what = `${article(noun)} ${noun}`
  if (missing) {
    return typeof key === 'number'
      ? { path, message: `entry ${key} is missing (expected ${what})` }
      : { path, message: `the required key "${key}" is missing (expected ${what})`, hint: 'see docs/config.md for what this section needs' }
  }
  const value = at(raw, path)
  const found = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `${article(typeof value)} ${typeof value}`
  return { path, message: `expected ${what} here, found ${found}` }
}

const typeWords: Readonly<Record<string, string>> = { object: 'mapping', array: 'list' }
const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a')
