import { fork } from 'node:child_process'

import { spawn as spawnProcess } from 'node:child_process'
import { openSync } from 'node:fs'
import { basename, join } from 'node:path'

/**
 * Starts and tracks the bench's child processes. Every child is killed when the parent exits, on
 * success, error or signal; children also exit by themselves when the IPC channel closes. A child
 * started with spawnGroup (the CLI with its cluster workers) leads its own process group, and the
 * whole group is killed.
 */
const live = new Set()
let stopping = false

const kill = (child) => (child.killGroup ? child.killGroup() : child.kill('SIGKILL'))

process.on('exit', () => {
  for (const child of live) kill(child)
})
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`)
    process.exit(130)
  })
}

function spawn(script, args, env, execArgv) {
  const child = fork(script, args, {
    env: { ...process.env, ...env },
    execArgv,
    // stdout ignored so `--json` output stays clean (BENCH_CHILD_STDOUT=DIR keeps each child's, e.g.
    // for --trace-gc); stderr shows crashes.
    stdio: ['ignore', process.env.BENCH_CHILD_STDOUT ? openSync(join(process.env.BENCH_CHILD_STDOUT, `${basename(script.pathname ?? String(script))}.${process.hrtime.bigint()}.out`), 'w') : 'ignore', 'inherit', 'ipc'],
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/**
 * Spawns `command` as the leader of a new process group (detached), e.g. `skillgate serve --workers N`
 * whose cluster workers stay in that group. SIGTERM goes to the leader alone (it drains its workers);
 * SIGKILL (parent exit, a stop that times out) and the leader's own exit take the whole group down,
 * so no worker outlives the bench.
 */
export function spawnGroup(command, args, options) {
  const child = spawnProcess(command, args, { ...options, detached: true })
  child.killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // ESRCH: the group is already gone.
    }
  }
  live.add(child)
  child.once('exit', () => {
    child.killGroup()
    live.delete(child)
  })
  return child
}

/** True once stopChildren has begun: children exiting then are expected. */
export const isStopping = () => stopping

/** Forks `script` and resolves once it reports its URL. A child that dies mid-run ends the bench (exit 1). */
export function startChild(name, script, env = {}, execArgv = []) {
  const child = spawn(script, [], env, execArgv)
  let nextId = 0
  const pending = new Map()
  child.on('message', (msg) => {
    if (msg?.type === 'stats') {
      pending.get(msg.id)?.(msg)
      pending.delete(msg.id)
    }
  })
  child.on('exit', (code, signal) => {
    if (stopping) return
    process.stderr.write(`bench: error: ${name} (pid ${child.pid}) exited unexpectedly (code ${code}, signal ${signal})\n`)
    process.exit(1)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20_000)
    child.once('message', (msg) => {
      clearTimeout(timer)
      if (msg?.type !== 'ready') return reject(new Error(`${name}: unexpected first message ${JSON.stringify(msg)}`))
      resolve({
        name,
        pid: child.pid,
        url: msg.url,
        /** CPU time used so far (µs) and peak RSS (KiB) of the child, measured inside it. */
        stats: () =>
          new Promise((done) => {
            const id = nextId++
            pending.set(id, done)
            child.send({ type: 'stats', id })
          }),
      })
    })
  })
}

/** Forks `script`, which sends one `{ type: 'result', result }` and exits; resolves with `result`. */
export function runTask(name, script, args = [], timeoutMs = 120_000) {
  const child = spawn(script, args, {}, [])
  return new Promise((resolve, reject) => {
    let result
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not finish within ${Math.round(timeoutMs / 1000)} s`))
    }, timeoutMs)
    child.on('message', (msg) => {
      if (msg?.type === 'result') result = msg.result
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0 && result !== undefined) resolve(result)
      else reject(new Error(`${name} (pid ${child.pid}) failed (code ${code}, signal ${signal})`))
    })
  })
}

/** Stops every child (SIGTERM) and waits for them to go. */
export async function stopChildren() {
  stopping = true
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => kill(child), 3_000)
          child.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGTERM')
        }),
    ),
  )
}
