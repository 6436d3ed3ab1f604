import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consoleSecurityHeaders, createConsoleHandler, defaultConsoleRoot } from '../../src/ui/console-handler.js'

/**
 * The console's static file handler: what it serves, with which headers, and what it refuses
 * (other methods, dot segments, encoded separators, hidden files, symlinks out of the root, file
 * types that are not part of the console).
 */

let server: Server
let base: string
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-ui-handler-'))
  const root = join(dir, 'public')
  mkdirSync(join(root, 'js'), { recursive: true })
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>')
  writeFileSync(join(root, 'app.css'), 'body{}')
  writeFileSync(join(root, 'js', 'main.js'), 'export {}')
  writeFileSync(join(root, '.secret.js'), 'hidden')
  writeFileSync(join(root, 'tsconfig.json'), '{}')
  writeFileSync(join(dir, 'outside.js'), 'outside')
  symlinkSync(join(dir, 'outside.js'), join(root, 'escape.js'))
  const handler = createConsoleHandler({ root })
  server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    void handler(req, res, q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

/** A raw request, so paths reach the handler exactly as written (fetch would normalise `..`). */
function raw(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('console handler', () => {
  it('serves index.html for /ui/ and files with their types, CSP and nosniff', async () => {
    const index = await raw('/ui/')
    expect(index.status).toBe(200)
    expect(index.body).toContain('<title>t</title>')
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8')
    for (const [name, value] of Object.entries(consoleSecurityHeaders)) expect(index.headers[name]).toBe(value)
    expect(index.headers['content-security-policy']).toContain("default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
    expect(index.headers['x-content-type-options']).toBe('nosniff')
    expect((await raw('/ui/js/main.js')).headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect((await raw('/ui/app.css')).headers['content-type']).toBe('text/css; charset=utf-8')
  })

  it('redirects /ui to /ui/, keeping the query', async () => {
    const res = await raw('/ui?x=1')
    expect(res.status).toBe(301)
    expect(res.headers.location).toBe('/ui/?x=1')
  })

  it('redirects deep links (as notifications send them) to the hash route', async () => {
    const res = await raw('/ui/reviews/rev_01JABC')
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe('/ui/#/reviews/rev_01JABC')
    expect((await raw('/ui/audit')).headers.location).toBe('/ui/#/audit')
    expect((await raw('/ui/reviews/a/b')).status).toBe(404)
    expect((await raw('/ui/elsewhere/x')).status).toBe(404)
  })

  it('answers HEAD without a body and 304 for a known ETag', async () => {
    const head = await raw('/ui/app.css', 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers['content-length']).toBe('6')
    const again = await raw('/ui/app.css', 'GET', { 'if-none-match': String(head.headers.etag) })
    expect(again.status).toBe(304)
    expect(again.headers['content-security-policy']).toBeDefined()
  })

  it('refuses other methods with 405 and allow', async () => {
    const res = await raw('/ui/', 'POST')
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, HEAD')
  })

  it.each([
    '/ui/../package.json',
    '/ui/js/../../outside.js',
    '/ui/%2e%2e/outside.js',
    '/ui/..%2foutside.js',
    '/ui/js%2fmain.js',
    '/ui/js\\main.js',
    '/ui//js/main.js',
    '/ui/./index.html',
    '/ui/.secret.js',
    '/ui/escape.js',
    '/ui/tsconfig.json',
    '/ui/js/',
    '/ui/missing.js',
    '/ui/index.html%00.js',
    '/uiother/index.html',
  ])('refuses %s with 404', async (path) => {
    const res = await raw(path)
    expect(res.status).toBe(404)
    expect(res.body).not.toContain('outside')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  it('finds the packaged console from its own location', async () => {
    const handler = createConsoleHandler({ root: defaultConsoleRoot() })
    const served = createServer((req, res) => void handler(req, res, (req.url ?? '/').split('?')[0] ?? '/'))
    await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', resolve))
    try {
      const res = await fetch(`http://127.0.0.1:${(served.address() as AddressInfo).port}/ui/js/main.js`)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('hashchange')
    } finally {
      await new Promise((resolve) => served.close(resolve))
    }
  })
})
