import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const cli = 'dist/cli/main.js'

/** `skillgate … | head`: the reader closes the pipe early; the CLI must end quietly (needs `npm run build`). */
describe.skipIf(!existsSync(cli))('a closed stdout pipe', () => {
  it('ends the command without an EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [cli, 'config', 'schema'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // Like `| head` having exited already: the read end is closed before the command writes.
    child.stdout.destroy()
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).not.toMatch(/EPIPE|Error/)
    expect(code).toBe(0)
  })
})
