/** Ownership of upstream objects: pure logic (what a request addresses, cites, creates and lists). */
export { ownedKinds, skillVersionId, type OwnedKind, type OwnedObject } from './kinds.js'
export { deletedObject, listKind, pathChecks, type PathCheck } from './targets.js'
export { bodyReferences, fileReferences, type FileReference } from './references.js'
export { isManagedCreate, managedCreated, managedListKind, managedPathObject, managedReferences, type ManagedKind, type ManagedReference } from './managed-agents.js'
export { createdObjects, isCreateCall, messageObjects } from './created.js'
export { filterPage, pageIds, type FilteredPage } from './list-page.js'
export { namedCustomSkills } from './named-skills.js'
export { judgeOwnership, type OwnershipVerdict, type OwnerLookup } from './judge.js'
