import { pino, type Logger, type DestinationStream } from 'pino'

/**
 * Structured logs. Nothing logs headers or bodies; the redact list is a second line of defence for
 * credential-shaped keys should one ever be passed by mistake (pino `redact`, compiled once).
 * By default lines go to stdout asynchronously (buffered by sonic-boom): a slow log consumer must
 * not stall requests. The audit, not the log, is the durable record.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.SKILLGATE_LOG_LEVEL ?? 'info',
      base: { service: 'skillgate', pid: process.pid },
      redact: {
        paths: ['authorization', 'token', 'apiKey', 'secret', '*.authorization', '*.token', '*.apiKey', '*.secret', '*["x-api-key"]', 'headers'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  )
}
