/** A one-line progress bar on stderr (only when it is a terminal; otherwise a line every 10 %). */
export function progressBar(label: string, total: number): { update(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true
  let lastDecile = -1
  const render = (done: number) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1
    if (tty) {
      const width = 30
      const filled = Math.round(ratio * width)
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`)
      return
    }
    const decile = Math.floor(ratio * 10)
    if (decile !== lastDecile) {
      lastDecile = decile
      process.stderr.write(`${label}: ${done}/${total}\n`)
    }
  }
  return {
    update: render,
    end() {
      if (tty) process.stderr.write('\n')
    },
  }
}
