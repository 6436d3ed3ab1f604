import { spawn } from 'node:child_process'
import { join } from 'node:path'

/**
 * Runs the installed Claude Code CLI (2.1.197) with telemetry and non-essential traffic off, no
 * retries, and none of the caller's ANTHROPIC_* / CLAUDE* variables (anthropic-api.md §15.2).
 */
export function runClaude(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quiet = {
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_NON_ESSENTIAL_MODEL_CALLS: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    NO_PROXY: '127.0.0.1,localhost',
  }
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANTHROPIC_') && !k.startsWith('CLAUDE')))
  return new Promise((resolve, reject) => {
    const child = spawn(join('node_modules', '.bin', 'claude'), args, { env: { ...base, ...quiet, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
