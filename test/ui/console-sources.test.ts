import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultConsoleRoot } from '../../src/ui/console-handler.js'

/**
 * Static guarantees of the console's sources (docs/console.md): API data is rendered as text only,
 * no code is built from strings, nothing is loaded from another host, and the only network calls
 * go through api.js to /admin/api/ on the same origin. Trusted Types in the CSP enforce the first
 * rule in the browser as well.
 */

const root = defaultConsoleRoot()
const files = (function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]))
})(root)
const scripts = files.filter((file) => file.endsWith('.js'))

describe('console sources', () => {
  it('has the files the console needs', () => {
    const names = files.map((file) => relative(root, file))
    expect(names).toEqual(expect.arrayContaining(['index.html', 'console.css', 'js/main.js', 'js/api.js', 'js/dom.js', 'js/replay.js']))
  })

  it.each(scripts.map((file) => [relative(root, file), file]))('%s uses no HTML or code string sinks', (_name, file) => {
    const source = readFileSync(file, 'utf8')
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setAttribute(\'on', 'srcdoc', 'DOMParser', 'createContextualFragment']) {
      expect(source, sink).not.toContain(sink)
    }
  })

  it('only api.js calls fetch, and it refuses anything but /admin/api/', () => {
    const callers = scripts.filter((file) => /\bfetch\(/.test(readFileSync(file, 'utf8'))).map((file) => relative(root, file))
    expect(callers).toEqual(['js/api.js'])
    expect(readFileSync(join(root, 'js', 'api.js'), 'utf8')).toContain("if (!path.startsWith('/admin/api/'))")
  })

  it('loads nothing from another host (no CDN, no web fonts)', () => {
    const remote = String.raw`(?:https?:)?//`
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      const name = relative(root, file)
      if (name.endsWith('.html')) expect(text, name).not.toMatch(new RegExp(String.raw`\b(?:src|href)\s*=\s*["']?${remote}`, 'i'))
      if (name.endsWith('.css')) expect(text, name).not.toMatch(/@import|@font-face|url\(\s*['"]?(?!data:)/i)
      if (name.endsWith('.js')) expect(text, name).not.toMatch(new RegExp(String.raw`(?:\bfrom|\bimport\s*\(?)\s*['"]${remote}`))
    }
  })

  it('index.html has no inline script or style (the CSP would block them)', () => {
    const html = readFileSync(join(root, 'index.html'), 'utf8')
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i)
  })
})
