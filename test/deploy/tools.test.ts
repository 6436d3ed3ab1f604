import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { repoPath } from './helpers.js'

/**
 * The real renderers, when this machine has them: `docker compose config` (the compose plugin; no
 * daemon needed) and `helm lint` / `helm template`. Elsewhere each is skipped with a one-line reason;
 * the static checks in the other files of test/deploy run everywhere.
 */

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(command, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } })
}

const helmVersion = run('helm', ['version', '--short'])
const helmReason = helmVersion.status === 0 ? undefined : 'helm is not on PATH'
const composeVersion = run('docker', ['compose', 'version'])
const composeReason = composeVersion.status === 0 ? undefined : '`docker compose version` failed (no compose plugin)'

for (const reason of [helmReason, composeReason]) if (reason) console.warn(`skipping a deploy renderer check: ${reason}`)

describe.skipIf(composeReason !== undefined)(`docker compose config${composeReason ? ` (skipped: ${composeReason})` : ''}`, () => {
  it('accepts deploy/compose/docker-compose.yml', () => {
    const result = run('docker', ['compose', '-f', repoPath('deploy/compose/docker-compose.yml'), 'config', '--quiet'], { POSTGRES_PASSWORD: 'test-only' })
    expect(result.status, result.stderr).toBe(0)
  })
})

describe.skipIf(helmReason !== undefined)(`helm${helmReason ? ` (skipped: ${helmReason})` : ''}`, () => {
  const chart = repoPath('deploy/helm/skillgate')

  it('lints the chart', () => {
    const result = run('helm', ['lint', chart])
    expect(result.status, result.stdout + result.stderr).toBe(0)
  })

  it('renders the default values', () => {
    const result = run('helm', ['template', 'sg', chart])
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toContain('kind: Deployment')
    expect(result.stdout).toContain('path: /readyz')
  })

  it('refuses SQLite with several replicas and a loopback listen host', () => {
    const sqlite = run('helm', ['template', 'sg', chart, '--set', 'config.storage.url=sqlite:/var/lib/skillgate/skillgate.db'])
    expect(sqlite.status).not.toBe(0)
    expect(sqlite.stderr).toContain('SQLite')
    const loopback = run('helm', ['template', 'sg', chart, '--set', 'config.listen.host=127.0.0.1'])
    expect(loopback.status).not.toBe(0)
  })

  it('refuses a grace period that does not cover the drain timeout', () => {
    const result = run('helm', ['template', 'sg', chart, '--set', 'terminationGracePeriodSeconds=10'])
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain('terminationGracePeriodSeconds')
  })
})
