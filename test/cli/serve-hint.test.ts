import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const cli = 'dist/cli/main.js'

/** `npm start` tells a new operator where the console is and how to sign in (needs `npm run build`). */
describe.skipIf(!existsSync(cli))('skillgate serve', () => {
  it('prints the console URL and where the admin token comes from, never the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-serve-hint-'))
    const config = join(dir, 'skillgate.yaml')
    writeFileSync(
      config,
      `upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }
storage: { url: "sqlite:${join(dir, 'db.sqlite')}" }
admin: { tokens: [{ secret: { fromEnv: HINT_TEST_ADMIN_TOKEN }, roles: [admin, approver] }] }
`,
    )
    const child = spawn(process.execPath, [cli, 'serve', '--config', config, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HINT_TEST_ADMIN_TOKEN: 'hint-test-token-do-not-print' },
    })
    let stderr = ''
    child.stdout.resume() // the JSON log; not read here, but drained so the gateway never blocks on it
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString()
          if (stderr.includes('The CLI takes the same token')) resolve()
        })
        void exited.then(() => reject(new Error(`serve exited early:\n${stderr}`)))
        setTimeout(() => reject(new Error(`no hint in 10 s (${dir}):\n${stderr}`)), 10_000).unref()
      })
    } finally {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(killer)
    }
    expect(stderr).toMatch(/console at http:\/\/127\.0\.0\.1:\d+\/ui\/ — sign in with:/)
    expect(stderr).toContain('an admin token (admin, approver) from $HINT_TEST_ADMIN_TOKEN')
    expect(stderr).not.toContain('hint-test-token-do-not-print')
  }, 30_000)
})
