import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'

/**
 * Shared readers for the deployment checks. No Docker daemon or helm binary is assumed: files are
 * parsed and cross-checked with what the repository itself has (the yaml package, the real config
 * loader, the real metrics registry).
 */

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts)
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8')
}

export function repoFileExists(...parts: string[]): boolean {
  return existsSync(repoPath(...parts))
}

/** Parses YAML strictly (duplicate keys are errors) and fails with every problem at once. */
export function parseYamlStrict(text: string, source: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message.split('\n')[0]).join('; ')}`)
  return doc.toJS()
}

export type YamlMap = Record<string, unknown>

export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The map at `key`, or a failure naming the path. */
export function mapAt(parent: unknown, key: string, where = key): YamlMap {
  const value = isMap(parent) ? parent[key] : undefined
  if (!isMap(value)) throw new Error(`${where} is not a map`)
  return value
}

/** A Dockerfile instruction after joining continuation lines and dropping comments. */
export interface DockerInstruction {
  readonly keyword: string
  readonly args: string
  readonly stage: number
}

/** Splits a Dockerfile into instructions, numbering stages from 0 at each FROM. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = []
  let current = ''
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (/^\s*#/.test(line)) continue
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `
      continue
    }
    current += line
    if (current.trim()) logical.push(current.trim())
    current = ''
  }
  if (current.trim()) logical.push(current.trim())
  const instructions: DockerInstruction[] = []
  let stage = -1
  for (const line of logical) {
    const space = line.search(/\s/)
    const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase()
    const args = space === -1 ? '' : line.slice(space + 1).trim()
    if (keyword === 'FROM') stage += 1
    instructions.push({ keyword, args, stage })
  }
  return instructions
}

/** A `{{ … }}` action of a Helm template, trim markers removed. */
export interface TemplateAction {
  readonly text: string
  readonly line: number
}

/** Every action of a Go template, or an error for an unclosed `{{` or a stray `}}`. */
export function templateActions(source: string, file: string): TemplateAction[] {
  const actions: TemplateAction[] = []
  let at = 0
  for (;;) {
    const open = source.indexOf('{{', at)
    const strayClose = source.indexOf('}}', at)
    if (open === -1) {
      if (strayClose !== -1) throw new Error(`${file}:${lineOf(source, strayClose)}: "}}" without "{{"`)
      return actions
    }
    if (strayClose !== -1 && strayClose < open) throw new Error(`${file}:${lineOf(source, strayClose)}: "}}" without "{{"`)
    const close = source.indexOf('}}', open + 2)
    if (close === -1) throw new Error(`${file}:${lineOf(source, open)}: "{{" is never closed`)
    const nested = source.indexOf('{{', open + 2)
    if (nested !== -1 && nested < close) throw new Error(`${file}:${lineOf(source, nested)}: "{{" inside an action`)
    const text = source
      .slice(open + 2, close)
      .replace(/^-\s/, '')
      .replace(/\s-$/, '')
      .trim()
    actions.push({ text, line: lineOf(source, open) })
    at = close + 2
  }
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length
}

/** The action with string literals blanked, so words inside quotes are not mistaken for code. */
export function withoutStrings(action: string): string {
  return action.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/`[^`]*`/g, '""')
}
