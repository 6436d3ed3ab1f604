import type { ServerResponse } from 'node:http'

/**
 * Resolves once the response can take more (`drain`) or the client went away (`close`), removing
 * both listeners either way: a long stream or export waits thousands of times on one response.
 */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
