/**
 * Several suites run the real CLI from `dist/` in child processes (workers, crash, reload,
 * reliability). A `dist/` older than `src/` would test yesterday's code and pass or fail for the
 * wrong reason, so before any test runs this compares every source file with its build output and
 * rebuilds (`npm run build`) when one is newer or missing, saying so.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = join(import.meta.dirname, '..', '..')

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* sources(path)
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) yield path
  }
}

const mtime = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

/** The first source file whose build output is missing or older, if any. */
export function staleSource(): string | undefined {
  const src = join(root, 'src')
  for (const file of sources(src)) {
    const built = join(root, 'dist', relative(src, file)).replace(/\.ts$/, '.js')
    const out = mtime(built)
    if (out === undefined || out < (mtime(file) ?? 0)) return relative(root, file)
  }
  return undefined
}

export default function freshDist(): void {
  const stale = staleSource()
  if (stale === undefined) return
  console.log(`dist/ is older than ${stale}: rebuilding (npm run build) so child-process tests run the current code`)
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
}
