/**
 * A gateway variant started through the real CLI: `node dist/cli/main.js serve --config F --workers N`
 * (node:cluster, N workers sharing one port), logging at warn to a file. Unlike the in-process
 * children (lib/child.mjs) it has no IPC with the bench, so its CPU time and peak RSS are read from
 * /proc and summed over the primary and its workers (Linux only). It is stopped with SIGTERM to the
 * primary, which drains its workers; see spawnGroup in lib/children.mjs for the kill-on-exit path.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { isStopping, spawnGroup } from './children.mjs'

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

/** Whether CPU and RSS of a process tree can be read here (/proc, i.e. Linux). */
export const procAvailable = () => existsSync('/proc/self/stat') && existsSync(`/proc/${process.pid}/task/${process.pid}/children`)

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** The direct children of `pid` (all its threads'), from /proc/<pid>/task/<tid>/children. */
function childrenOf(pid) {
  const out = []
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number))
    } catch {
      // the thread ended meanwhile
    }
  }
  return out
}

/** utime + stime + cutime + cstime (µs; reaped children included) and VmHWM (KiB) of one process, or undefined once it is gone. */
function readProcess(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields[0] is field 3 (state)
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return { cpuUs: (ticks * 1_000_000) / CLOCK_TICKS, hwmKb: hwm ? Number(hwm[1]) : 0 }
  } catch {
    return undefined
  }
}

/** A TCP port free right now on 127.0.0.1 (the cluster needs a fixed port: the bench cannot read the workers' port 0). */
async function freePort() {
  const server = createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Writes `config` to `<dir>/skillgate.json`, starts `serve --workers N` on a free port and resolves,
 * once /readyz answers 200, N workers exist and the tree has gone idle (every worker finished
 * starting), with the same shape as startChild: `{ name, pid, url, stats() }`. stats() sums CPU
 * (10 ms ticks) over the primary and its workers; maxRssKb is the sum of each process's peak RSS
 * (VmHWM), an upper bound of the tree's peak footprint. A worker that exits mid-run (the primary
 * would replace it silently) ends the bench, like any child that dies.
 */
export async function startCliGateway(name, { config, dir, workers, logPath, env = {}, execArgv = [] }) {
  if (!procAvailable()) throw new Error(`${name}: needs /proc (Linux) to measure the primary and its workers`)
  const configPath = join(dir, 'skillgate.json') // JSON is YAML
  writeFileSync(configPath, JSON.stringify(config, null, 2))
  const port = await freePort()
  const logFd = openSync(logPath, 'a')
  const child = spawnGroup(process.execPath, [...execArgv, MAIN, 'serve', '--config', configPath, '--workers', String(workers), '--port', String(port)], {
    env: { ...process.env, SKILLGATE_LOG_LEVEL: 'warn', ...env },
    // The pino lines (stdout, the workers inherit it) go to the variant's log; stderr shows crashes.
    stdio: ['ignore', logFd, 'inherit'],
  })
  closeSync(logFd)
  child.on('exit', (code, signal) => {
    if (isStopping()) return
    process.stderr.write(`bench: error: ${name} (pid ${child.pid}) exited unexpectedly (code ${code}, signal ${signal})\n`)
    process.exit(1)
  })

  const url = `http://127.0.0.1:${port}`
  const peakKb = new Map() // pid → highest VmHWM seen
  let workerPids
  const stats = async () => {
    const pids = childrenOf(child.pid)
    if (workerPids !== undefined && !isStopping() && pids.sort().join() !== workerPids) {
      process.stderr.write(`bench: error: ${name}: workers changed from ${workerPids} to ${pids.join()} (a worker exited mid-run)\n`)
      process.exit(1)
    }
    let cpuUs = 0
    for (const pid of [child.pid, ...pids]) {
      const p = readProcess(pid)
      if (p === undefined) continue
      cpuUs += p.cpuUs
      peakKb.set(pid, Math.max(peakKb.get(pid) ?? 0, p.hwmKb))
    }
    return { cpuUs, maxRssKb: [...peakKb.values()].reduce((a, b) => a + b, 0), processes: 1 + pids.length }
  }

  const deadline = performance.now() + 30_000
  const until = async (what, ok) => {
    while (!(await ok())) {
      if (performance.now() > deadline) throw new Error(`${name} did not start within 30 s (waiting for ${what})`)
      await sleep(50)
    }
  }
  await until('/readyz', async () => {
    try {
      const res = await request(`${url}/readyz`, { headersTimeout: 2_000, bodyTimeout: 2_000 })
      await res.body.dump()
      return res.statusCode === 200
    } catch {
      return false
    }
  })
  await until(`${workers} workers`, async () => childrenOf(child.pid).length === workers)
  // /readyz answered by one worker says nothing of the others: wait until the tree is idle (no tick in 200 ms).
  let before = (await stats()).cpuUs
  await until('the workers to finish starting', async () => {
    await sleep(200)
    const now = (await stats()).cpuUs
    const idle = now - before === 0
    before = now
    return idle
  })
  workerPids = childrenOf(child.pid).sort().join()
  return { name, pid: child.pid, url, stats, workers }
}
