import { createHash } from 'node:crypto'
import { readFile, realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Serves the web console (SPEC §3 `/ui/`): the static files of `ui/public/`, as they are in the
 * repository and the npm package (plain ES modules, no build step; docs/console.md says why).
 *
 * The console renders attacker-influenced text (prompts and model output from the audit), so every
 * response carries a strict CSP: scripts and styles only from this origin, no inline code, no
 * framing, and `connect-src 'self'` so a script could not send data anywhere but this gateway.
 * Trusted Types are required as well, so the browser itself refuses HTML string sinks
 * (`innerHTML` and friends) should one ever slip into the code.
 */

export interface ConsoleHandlerOptions {
  /** Directory holding `index.html` and the console's modules (default: `defaultConsoleRoot()`). */
  readonly root: string
  /** Where the console is mounted; default `/ui`. */
  readonly mount?: string
}

/** `(req, res, path)` as the gateway's route table calls it; `search` is kept on the `/ui` redirect. */
export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse, path: string, search?: string) => Promise<void>

export const consoleCsp =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; " +
  "base-uri 'none'; form-action 'none'; require-trusted-types-for 'script'"

/** Headers on every console response, errors and redirects included. */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': consoleCsp,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** Only these are served; anything else in the directory (a tsconfig, a stray file) is a 404. */
const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
}

/** Plain names only: no dot segments, no hidden files, no backslashes or encoded separators. */
const safeRelativePath = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/

/** A console view by path: `audit`, `reviews/rev_01…`, `audit/01J…` (ids as the API makes them). */
const deepLink = /^(audit|sessions|reviews|grants|revocations|explain)(\/[A-Za-z0-9_.:%-]+)?$/

/** `ui/public/` of the package, found from this module's place (`src/ui/` in tests, `dist/ui/` when installed). */
export function defaultConsoleRoot(): string {
  return fileURLToPath(new URL('../../ui/public/', import.meta.url))
}

export function createConsoleHandler(options: ConsoleHandlerOptions): ConsoleHandler {
  const mount = (options.mount ?? '/ui').replace(/\/+$/, '')
  const root = resolve(options.root)
  // Resolved once: a symlinked install location (npm link, pnpm) must still compare equal.
  const realRoot = realpath(root).catch(() => root)
  return async (req, res, path, search = '') => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' })
      return
    }
    if (path === mount) {
      send(res, 301, '', { location: `${mount}/${search}` })
      return
    }
    if (!path.startsWith(`${mount}/`)) {
      send(res, 404, 'not found\n')
      return
    }
    const relative = path.slice(mount.length + 1) || 'index.html'
    // Links from notifications (`/ui/reviews/<id>`, src/notify) name a view; the console routes by hash.
    if (deepLink.test(relative)) {
      send(res, 302, '', { location: `${mount}/#/${relative}` })
      return
    }
    const file = safeRelativePath.test(relative) ? await locate(await realRoot, relative) : undefined
    if (file === undefined) {
      send(res, 404, 'not found\n')
      return
    }
    await serveFile(req, res, file)
  }
}

/** The file's real path when it is a regular file inside the root with an allowed type. */
async function locate(realRoot: string, relative: string): Promise<{ path: string; type: string } | undefined> {
  const type = contentTypes[extname(relative).toLowerCase()]
  if (type === undefined) return undefined
  try {
    const real = await realpath(resolve(realRoot, relative))
    // A symlink pointing out of the console directory is not part of the console.
    if (!real.startsWith(realRoot + sep)) return undefined
    const info = await stat(real)
    return info.isFile() ? { path: real, type } : undefined
  } catch {
    return undefined
  }
}

async function serveFile(req: IncomingMessage, res: ServerResponse, file: { path: string; type: string }): Promise<void> {
  const body = await readFile(file.path)
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  // no-cache: revalidate every time (cheap 304s), so an upgraded gateway never runs a stale console.
  const headers = { 'content-type': file.type, etag, 'cache-control': 'no-cache' }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ...consoleSecurityHeaders, ...headers })
    res.end()
    return
  }
  res.writeHead(200, { ...consoleSecurityHeaders, ...headers, 'content-length': body.length })
  res.end(req.method === 'HEAD' ? undefined : body)
}

function send(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...consoleSecurityHeaders,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  })
  res.end(res.req.method === 'HEAD' ? undefined : text)
}
