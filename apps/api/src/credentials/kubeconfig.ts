/** AKS's Azure AD server and client application ids, written into AAD kubeconfigs (kubelogin / the azure auth provider). */
export const AKS_AAD_SERVER_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
export const AKS_AAD_CLIENT_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';

export type KubeconfigUser =
  { kind: 'certificate'; certPem: string; keyPem: string } | { kind: 'exec'; tenantId: string } | { kind: 'azure'; tenantId: string };

export interface KubeconfigRequest {
  /** The cluster entry's name: the managed cluster's name, as AKS writes it. */
  clusterName: string;
  contextName: string;
  userName: string;
  server: string;
  caPem: string;
  user: KubeconfigUser;
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** The kubeconfig as an object, in the layout `az aks get-credentials` writes. */
export function kubeconfigObject(req: KubeconfigRequest): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(req.caPem), server: req.server }, name: req.clusterName }],
    contexts: [{ context: { cluster: req.clusterName, user: req.userName }, name: req.contextName }],
    'current-context': req.contextName,
    kind: 'Config',
    preferences: {},
    users: [{ name: req.userName, user: userEntry(req.user) }],
  };
}

function userEntry(user: KubeconfigUser): Record<string, unknown> {
  switch (user.kind) {
    case 'certificate':
      return { 'client-certificate-data': b64(user.certPem), 'client-key-data': b64(user.keyPem) };
    case 'exec':
      return {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          args: [
            'get-token',
            '--environment',
            'AzurePublicCloud',
            '--server-id',
            AKS_AAD_SERVER_ID,
            '--client-id',
            AKS_AAD_CLIENT_ID,
            '--tenant-id',
            user.tenantId,
            '--login',
            'devicecode',
          ],
          command: 'kubelogin',
          env: null,
          installHint:
            'kubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n',
          provideClusterInfo: false,
        },
      };
    case 'azure':
      return {
        'auth-provider': {
          config: {
            'apiserver-id': AKS_AAD_SERVER_ID,
            'client-id': AKS_AAD_CLIENT_ID,
            'config-mode': '1',
            environment: 'AzurePublicCloud',
            'tenant-id': user.tenantId,
          },
          name: 'azure',
        },
      };
  }
}

/** The kubeconfig file, YAML as kubectl writes it. */
export function renderKubeconfig(req: KubeconfigRequest): string {
  return toYaml(kubeconfigObject(req));
}

// Plain scalars that no YAML reader takes for anything but a string; everything else is double-quoted (JSON rules).
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_.\-/:()@=+]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n|[-+]?(\.?\d[\d._]*([eE][-+]?\d+)?|\.inf|\.nan|0x[0-9a-f]+|0o[0-7]+))$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  const s = String(v);
  return PLAIN.test(s) && !RESERVED.test(s) && !s.includes(': ') && !/:$/.test(s) ? s : JSON.stringify(s);
}

const isEmptyContainer = (v: unknown): boolean => typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);

/** A small block-style YAML writer for plain data (objects, arrays, strings, numbers, booleans, null). */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (typeof item === 'object' && item !== null && !isEmptyContainer(item)) {
          const body = toYaml(item, `${indent}  `);
          return `${indent}- ${body.slice(indent.length + 2)}`;
        }
        return `${indent}- ${isEmptyContainer(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}\n`;
      })
      .join('');
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([k, v]) => {
        if (isEmptyContainer(v)) return `${indent}${scalar(k)}: ${Array.isArray(v) ? '[]' : '{}'}\n`;
        if (Array.isArray(v)) return `${indent}${scalar(k)}:\n${toYaml(v, indent)}`;
        if (typeof v === 'object' && v !== null) return `${indent}${scalar(k)}:\n${toYaml(v, `${indent}  `)}`;
        return `${indent}${scalar(k)}: ${scalar(v)}\n`;
      })
      .join('');
  }
  return `${indent}${scalar(value)}\n`;
}
