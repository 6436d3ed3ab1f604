/**
 * The child side of the bench's process protocol (node IPC, see lib/children.mjs). Each server runs
 * in its own process so its peak RSS and CPU time are its own and the load generator never shares
 * its event loop.
 */
export function serveChild(name, start) {
  // The parent died or disconnected: never outlive it.
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
  process.on('message', (msg) => {
    if (msg?.type !== 'stats') return
    const cpu = process.cpuUsage()
    process.send({ type: 'stats', id: msg.id, cpuUs: cpu.user + cpu.system, maxRssKb: process.resourceUsage().maxRSS })
  })
  start().then(
    (url) => process.send({ type: 'ready', url }),
    (error) => {
      process.stderr.write(`bench ${name}: failed to start: ${error?.stack ?? error}\n`)
      process.exit(1)
    },
  )
}
