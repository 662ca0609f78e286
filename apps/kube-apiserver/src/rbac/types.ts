/** The rbac.authorization.k8s.io/v1 shapes the authorizer reads (PolicyRule, Subject, RoleRef). */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

/** What a request asks to do, in the terms authorizers speak (upstream's authorizer.Attributes). */
export type RequestAttributes =
  | {
      resourceRequest: true;
      verb: string;
      group: string;
      resource: string;
      subresource?: string;
      namespace?: string;
      name?: string;
    }
  | { resourceRequest: false; verb: string; path: string };

export interface Decision {
  allowed: boolean;
  /** Why (upstream's reason strings: `RBAC: allowed by …`, or why a binding could not be used). */
  reason: string;
}
