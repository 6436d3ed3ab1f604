/** Durations and sizes as they appear in the YAML ("30s", "32MB"), parsed once at load. */

const durationUnits = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
export const durationPattern = /^([0-9]+)(ms|s|m|h|d)$/

export function parseDuration(text: string): number {
  const match = durationPattern.exec(text)
  if (!match) throw new Error(`not a duration: ${text}`)
  return Number(match[1]) * durationUnits[match[2] as keyof typeof durationUnits]
}

const sizeUnits = { B: 1, KB: 1_000, MB: 1_000_000, GB: 1_000_000_000, KiB: 1_024, MiB: 1_048_576, GiB: 1_073_741_824 } as const
export const sizePattern = /^([0-9]+)(B|KB|MB|GB|KiB|MiB|GiB)$/

export function parseSize(text: string): number {
  const match = sizePattern.exec(text)
  if (!match) throw new Error(`not a size: ${text}`)
  return Number(match[1]) * sizeUnits[match[2] as keyof typeof sizeUnits]
}
