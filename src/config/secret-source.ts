import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { inspect } from 'node:util'

/** How a secret is referenced in the YAML: exactly one of the three (oauth2-proxy `SecretSource`). */
export type SecretRef = { fromEnv: string } | { fromFile: string } | { value: string }

/**
 * A resolved secret. It never prints itself: `toJSON`, `toString` and `inspect` say `[redacted]`, so a
 * config dump or a log line cannot leak it. `fromFile` secrets follow the file (key rotation without a
 * restart) through a stat poll that re-reads asynchronously; `reveal()` itself never touches the disk.
 */
export class Secret {
  #value: string
  readonly source: string
  #watchedPath: string | undefined

  private constructor(value: string, source: string) {
    this.#value = value
    this.source = source
  }

  static resolve(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Secret {
    if ('value' in ref) return new Secret(ref.value, 'value')
    if ('fromEnv' in ref) {
      const value = env[ref.fromEnv]
      if (value === undefined || value === '') throw new Error(`environment variable ${ref.fromEnv} is not set`)
      return new Secret(value, `env:${ref.fromEnv}`)
    }
    const value = readSecretFile(ref.fromFile)
    return new Secret(value, `file:${ref.fromFile}`)
  }

  reveal(): string {
    return this.#value
  }

  /**
   * Starts following the file this secret came from; a no-op for env and inline secrets. A failed
   * re-read keeps the last good value and goes to `onError` (the operator must hear that a rotation
   * did not take).
   */
  follow(intervalMs = 1_000, onChange?: () => void, onError?: (error: Error) => void): void {
    if (!this.source.startsWith('file:') || this.#watchedPath) return
    const path = this.source.slice('file:'.length)
    this.#watchedPath = path
    const reread = () =>
      readFile(path, 'utf8')
        .then((text) => {
          const next = text.trim()
          // An empty file mid-rotation keeps the last good value instead of failing open.
          if (!next) onError?.(new Error(`secret file ${path} is empty; the previous value stays in use`))
          else if (next !== this.#value) {
            this.#value = next
            onChange?.()
          }
        })
        .catch((error: unknown) => onError?.(new Error(`cannot re-read secret file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)))
    watchFile(path, { interval: intervalMs, persistent: false }, (current, previous) => {
      if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) void reread()
    })
    // The watcher's first stat is its baseline: a change before it would go unseen, so look once now.
    void reread()
  }

  close(): void {
    if (this.#watchedPath) unwatchFile(this.#watchedPath)
    this.#watchedPath = undefined
  }

  toJSON(): string {
    return '[redacted]'
  }

  toString(): string {
    return '[redacted]'
  }

  [inspect.custom](): string {
    return `Secret(${this.source}, [redacted])`
  }
}

function readSecretFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new Error(`cannot read secret file ${path} (${code})`)
  }
  const value = text.trim()
  if (!value) throw new Error(`secret file ${path} is empty`)
  return value
}
