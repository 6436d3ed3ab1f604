import { describe, expect, it } from 'vitest'
import { readRepoFile, repoFileExists } from './helpers.js'

/** docs/deploy.md covers what operators need and names only files that exist. */

const doc = readRepoFile('docs/deploy.md')

describe('docs/deploy.md', () => {
  it('has the sections operators look for', () => {
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1] ?? '')
    for (const topic of ['Single node', 'docker compose', 'Kubernetes', 'TLS', 'upstream key', 'Graceful shutdown', 'Health and readiness', 'migrate', 'Backups', 'Scaling']) {
      expect(headings.some((h) => h.includes(topic)), `a "## …${topic}…" section`).toBe(true)
    }
  })

  it('names only files that exist', () => {
    const paths = new Set([...doc.matchAll(/`((?:deploy|docs|test|src)\/[\w./-]+?)\/?`/g)].map((m) => m[1] ?? ''))
    expect(paths.size).toBeGreaterThan(2)
    for (const path of paths) expect(repoFileExists(path), path).toBe(true)
  })
})
