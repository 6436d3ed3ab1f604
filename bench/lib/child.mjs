/**
 * The child side of the bench's process protocol (node IPC, see lib/children.mjs). Each server runs
 * in its own process so its peak RSS and CPU time are its own and the load generator never shares
 * its event loop. `start` resolves with the URL, or with `{ url, close }` when the server has state
 * to flush (the gateway's audit) before it exits on SIGTERM.
 */
export function serveChild(name, start) {
  let close = async () => {}
  // The parent died or disconnected: never outlive it.
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => {
    // A graceful stop (audit queues flushed, SQLite closed), bounded: the parent SIGKILLs after 3 s.
    const bail = setTimeout(() => process.exit(0), 2_500)
    close().then(
      () => process.exit(0),
      (error) => {
        clearTimeout(bail)
        process.stderr.write(`bench ${name}: error while stopping: ${error?.stack ?? error}\n`)
        process.exit(1)
      },
    )
  })
  // Ctrl-C reaches the whole process group: the parent handles it and kills its children.
  process.on('SIGINT', () => {})
  process.on('message', (msg) => {
    if (msg?.type !== 'stats') return
    const cpu = process.cpuUsage()
    process.send({ type: 'stats', id: msg.id, cpuUs: cpu.user + cpu.system, maxRssKb: process.resourceUsage().maxRSS })
  })
  start().then(
    (started) => {
      if (typeof started === 'object') close = started.close
      process.send({ type: 'ready', url: typeof started === 'object' ? started.url : started })
    },
    (error) => {
      process.stderr.write(`bench ${name}: failed to start: ${error?.stack ?? error}\n`)
      process.exit(1)
    },
  )
}
