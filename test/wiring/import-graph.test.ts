import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * Issue #11: start-up wiring lives in one composition root with no import cycles. Every relative
 * import of src/ (type-only ones included: they still tie the modules' designs together) forms the
 * graph; its strongly connected components of more than one file are the cycles.
 */
const src = resolve('src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files)
  return new Map(
    files.map((file) => {
      const text = readFileSync(file, 'utf8')
      const targets = [...text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')))
      return [file, targets.filter((target) => known.has(target))]
    }),
  )
}

/** Tarjan's strongly connected components, keeping those with a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string | undefined
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(relative(src, w))
    } while (w !== v)
    if (component.length > 1) found.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

describe('import graph of src/', () => {
  const graph = importGraph(sourceFiles(src))

  it('finds a cycle when there is one (the check itself works)', () => {
    const a = join(src, 'a.ts')
    const b = join(src, 'b.ts')
    expect(cycles(new Map([[a, [b]], [b, [a]]]))).toEqual([['a.ts', 'b.ts']])
  })

  it('has no cycle through the composition root, the HTTP layer or the configuration', () => {
    const touching = cycles(graph).filter((component) => component.some((file) => /^(wiring|http|config)\//.test(file)))
    expect(touching).toEqual([])
  })

  it('keeps start-up wiring in src/wiring/: nothing but the entry points imports it', () => {
    const importers = [...graph].filter(([file, targets]) => !/^(wiring|cli|demo)\//.test(relative(src, file)) && targets.some((t) => relative(src, t).startsWith('wiring/')))
    expect(importers.map(([file]) => relative(src, file))).toEqual([])
  })
})
