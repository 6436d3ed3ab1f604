import { existsSync } from 'node:fs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runDemoCommand } from '../../src/cli/commands/demo.js'
import { MOCK_PII } from '../../src/mock-upstream/index.js'

/**
 * `skillgate demo --auto-approve --exit` (SPEC §1), in-process through the CLI command: each step
 * prints what happened, the planted secrets never reach the job, and the chain verifies.
 */

async function demo(...args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  try {
    return { code: await runDemoCommand(args), out }
  } finally {
    spy.mockRestore()
  }
}

afterEach(() => vi.restoreAllMocks())

describe('skillgate demo --auto-approve --exit', () => {
  it('tours denial, approval, masked stream and audit in a few seconds, then stops', async () => {
    const started = Date.now()
    const { code, out } = await demo('--auto-approve', '--exit', '--port', '0')
    const seconds = (Date.now() - started) / 1000
    expect(code, out).toBe(0)
    expect(seconds, 'the tour takes a few seconds').toBeLessThan(10)

    // Set-up: where everything runs, and the console's token.
    const gateway = /gateway {10}(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
    expect(gateway, out).toBeDefined()
    expect(out).toContain(`console          ${gateway}/ui/`)
    expect(out).toMatch(/console token {4}sgdemo_[A-Za-z0-9_-]{32}/)

    // Step 1: the denial names the rule and what is missing.
    expect(out).toContain('Step 1/4')
    expect(out).toMatch(/✗ denied: 403 permission_error: .*release-notes/)

    // Step 2: held; the review id, the console URL and the CLI command are printed.
    const reviewId = /review {3}(rev_[0-9A-Z]+)/.exec(out)?.[1]
    expect(reviewId, out).toBeDefined()
    expect(out).toContain(`console  ${gateway}/ui/#/reviews/${reviewId}`)
    expect(out).toContain(`npx skillgate reviews approve ${reviewId}`)
    expect(out).toContain('✔ approved by admin.tokens[0] (--auto-approve)')

    // Step 3: the stream completed and was masked; no planted secret reached the job.
    expect(out).toContain('✔ 200, streamed')
    expect(out).toContain('[REDACTED:email]')
    expect(out).toContain('[REDACTED:ticket]')
    for (const secret of Object.values(MOCK_PII)) expect(out).not.toContain(secret)

    // Step 4: the trail and a verified chain.
    expect(out).toMatch(/deny\s+denied\s+403/)
    expect(out).toMatch(/allow\s+completed\s+200/)
    expect(out).toContain('✔ audit verify: OK')

    // The narration is in order, even though the released stream races the approval's answer.
    const order = ['Step 1/4', 'Step 2/4', 'review   rev_', '✔ approved', 'Step 3/4', '│ ', '✔ 200, streamed', 'Step 4/4', '✔ audit verify'].map((text) => out.indexOf(text))
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(order).not.toContain(-1)

    // --exit: stopped, and the temp directory is gone.
    expect(out).not.toContain('keep running')
    const dir = /its key pair is in (\S+)\)/.exec(out)?.[1]
    expect(dir && existsSync(dir)).toBe(false)
    await expect(fetch(`${gateway}/healthz`)).rejects.toThrow()
  })

  it('prints its help', async () => {
    const { code, out } = await demo('--help')
    expect(code).toBe(0)
    expect(out).toContain('--auto-approve')
  })
})
