/** R5.5: who created and last changed a resource, and when. */
export interface SystemData {
  createdBy: string;
  createdByType: IdentityType;
  createdAt: string;
  lastModifiedBy: string;
  lastModifiedByType: IdentityType;
  lastModifiedAt: string;
}

export type IdentityType = 'User' | 'Application' | 'ManagedIdentity' | 'Key';

/** The caller, as taken from its token. */
export interface Caller {
  id: string;
  type: IdentityType;
}

export function createdSystemData(caller: Caller, at: Date): SystemData {
  const when = at.toISOString();
  return {
    createdBy: caller.id,
    createdByType: caller.type,
    createdAt: when,
    lastModifiedBy: caller.id,
    lastModifiedByType: caller.type,
    lastModifiedAt: when,
  };
}

export function modifiedSystemData(previous: SystemData, caller: Caller, at: Date): SystemData {
  return { ...previous, lastModifiedBy: caller.id, lastModifiedByType: caller.type, lastModifiedAt: at.toISOString() };
}
