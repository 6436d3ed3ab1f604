/**
 * Which principal created a code-execution container (anthropic-api.md §9.3): a container id
 * presented by anyone else may hold skills and files that principal was never granted. Ownership is
 * learned from responses. This store is bounded and per process: after a restart, or on another
 * replica, an unknown container is denied (fail closed) until the job starts a new one.
 */
export interface ContainerOwners {
  ownerOf(id: string): string | undefined
  remember(id: string, principal: string): void
}

export function createContainerOwners(limit = 100_000): ContainerOwners {
  const owners = new Map<string, string>()
  return {
    ownerOf: (id) => owners.get(id),
    remember(id, principal) {
      const known = owners.get(id)
      // First writer wins: a response can never move a container to another principal.
      if (known !== undefined) return
      owners.set(id, principal)
      if (owners.size > limit) owners.delete(owners.keys().next().value as string)
    },
  }
}
