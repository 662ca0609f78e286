import { OutputCapture } from '@cerulean/node-provider';
import type { KubeCall } from './kube-api.client';

/** Where AKS runs `az aks command invoke` commands: a pod per command in this namespace. */
export const COMMAND_NAMESPACE = 'aks-command';
/** The commands' identity in the cluster: bound to cluster-admin, as the admin credential a local-account cluster's command uses. */
export const COMMAND_SERVICE_ACCOUNT = 'aks-command';
/** Where the context zip is mounted (from the command's Secret) and where it is unpacked and the command runs. */
const CONTEXT_DIR = '/command-context';
const WORK_DIR = '/command';
/** The pod's only container: its log is the command's output. */
const CONTAINER = 'command';
/** Waiting reasons that never get better by themselves: the command cannot start. */
const HOPELESS = new Set(['ErrImageNeverPull', 'InvalidImageName', 'ImagePullBackOff', 'CreateContainerConfigError', 'CreateContainerError']);
const POLL_MS = 500;

/** `command-<32 hex>`, as AKS names the pod of command `<id>` (also the context Secret's name). */
export const commandPodName = (commandId: string): string => `command-${commandId.replace(/-/g, '').toLowerCase()}`;

const podsPath = `/api/v1/namespaces/${COMMAND_NAMESPACE}/pods`;
const secretsPath = `/api/v1/namespaces/${COMMAND_NAMESPACE}/secrets`;

export interface CommandPodSpec {
  commandId: string;
  command: string;
  /** The context zip, unpacked into the working directory before the command runs. */
  context: Buffer | null;
  image: string;
  /** The node the platform chose (a Ready node of a System pool): the pod is pinned there. */
  node: string;
}

/** The objects one command needs, created in this order: the namespace, its service account and binding, then its own. */
export function commandObjects(spec: CommandPodSpec): { path: string; body: Record<string, unknown> }[] {
  const name = commandPodName(spec.commandId);
  const labels = { app: 'aks-command', 'cerulean.io/command-id': spec.commandId };
  // `sh -c "$COMMAND"` in a fresh directory holding the context: the command's text never passes through a quoting layer.
  const script = [
    `mkdir -p ${WORK_DIR} && cd ${WORK_DIR} || exit 1`,
    `if [ -f ${CONTEXT_DIR}/context.zip ]; then unzip -oq ${CONTEXT_DIR}/context.zip || exit $?; fi`,
    'exec sh -c "$COMMAND"',
  ].join('\n');
  const objects: { path: string; body: Record<string, unknown> }[] = [
    { path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: COMMAND_NAMESPACE } } },
    {
      path: `/api/v1/namespaces/${COMMAND_NAMESPACE}/serviceaccounts`,
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: COMMAND_SERVICE_ACCOUNT, namespace: COMMAND_NAMESPACE } },
    },
    {
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'aks-command' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: COMMAND_SERVICE_ACCOUNT, namespace: COMMAND_NAMESPACE }],
      },
    },
  ];
  if (spec.context) {
    objects.push({
      path: secretsPath,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: COMMAND_NAMESPACE, labels },
        data: { 'context.zip': spec.context.toString('base64') },
      },
    });
  }
  objects.push({
    path: podsPath,
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: COMMAND_NAMESPACE, labels },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: COMMAND_SERVICE_ACCOUNT,
        nodeSelector: { 'kubernetes.io/hostname': spec.node },
        tolerations: [{ operator: 'Exists' }],
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: CONTAINER,
            image: spec.image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', script],
            env: [{ name: 'COMMAND', value: spec.command }],
            ...(spec.context ? { volumeMounts: [{ name: 'context', mountPath: CONTEXT_DIR, readOnly: true }] } : {}),
          },
        ],
        ...(spec.context ? { volumes: [{ name: 'context', secret: { secretName: name } }] } : {}),
      },
    },
  });
  return objects;
}

interface PodView {
  status?: {
    phase?: string;
    containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode: number; finishedAt?: string } } }[];
  };
}

export type PodEnd =
  { kind: 'exited'; exitCode: number; logs: string; finishedAt?: Date } | { kind: 'timedOut'; logs: string } | { kind: 'failed'; reason: string; logs: string };

/** One command's pod in a cluster, through the cluster's Kubernetes API. */
export class CommandPod {
  readonly name: string;

  constructor(
    private readonly call: KubeCall,
    private readonly commandId: string,
    private readonly maxOutputBytes: number,
  ) {
    this.name = commandPodName(commandId);
  }

  /**
   * Creates what the command needs; what exists already (an earlier command's, or a retry's) is fine. An API server that
   * does not answer (its control plane being replaced by an upgrade or a certificate rotation) is asked again until
   * `deadline` (epoch ms); one that refuses an object fails the command at once.
   */
  async create(spec: CommandPodSpec, deadline: number): Promise<void> {
    for (const { path, body } of commandObjects(spec)) {
      let r: { status: number; body: string };
      for (;;) {
        try {
          r = await this.call('POST', path, { json: body });
          break;
        } catch (err) {
          if (Date.now() + POLL_MS >= deadline) throw err;
          await new Promise((res) => setTimeout(res, POLL_MS));
        }
      }
      if (r.status >= 300 && r.status !== 409) throw new Error(`create ${String(body.kind)}: HTTP ${r.status} ${statusMessage(r.body)}`);
    }
  }

  async exists(): Promise<boolean> {
    const r = await this.call('GET', `${podsPath}/${this.name}`);
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw new Error(`read pod ${this.name}: HTTP ${r.status} ${statusMessage(r.body)}`);
  }

  /** Waits for the command's container to end, or `deadline` (epoch ms). An API server that does not answer is asked again. */
  async wait(deadline: number): Promise<PodEnd> {
    for (;;) {
      let pod: PodView | undefined;
      try {
        const r = await this.call('GET', `${podsPath}/${this.name}`);
        if (r.status === 404) return { kind: 'failed', reason: 'The command pod was deleted before the command finished.', logs: '' };
        if (r.status === 200) pod = JSON.parse(r.body) as PodView;
      } catch {
        // The API server is briefly away (restarting): ask again until the deadline.
      }
      const status = pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER);
      const ended = status?.state?.terminated;
      if (ended) {
        return { kind: 'exited', exitCode: ended.exitCode, logs: await this.logs(), finishedAt: ended.finishedAt ? new Date(ended.finishedAt) : undefined };
      }
      const waiting = status?.state?.waiting;
      if (waiting?.reason && HOPELESS.has(waiting.reason)) {
        return { kind: 'failed', reason: `The command pod could not start its container: ${waiting.reason}: ${waiting.message ?? ''}`.trim(), logs: '' };
      }
      if (Date.now() >= deadline) return { kind: 'timedOut', logs: await this.logs() };
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  /** The container's output so far, stdout and stderr interleaved, within maxOutputBytes (the middle cut). */
  async logs(): Promise<string> {
    try {
      const r = await this.call('GET', `${podsPath}/${this.name}/log?container=${CONTAINER}`);
      if (r.status !== 200) return '';
      const capture = new OutputCapture(this.maxOutputBytes);
      capture.push(Buffer.from(r.body, 'utf8'));
      return capture.text();
    } catch {
      return '';
    }
  }

  /** Removes the pod (at once: its processes are killed) and the context Secret; best effort. */
  async remove(): Promise<void> {
    const now = { json: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } };
    await this.call('DELETE', `${podsPath}/${this.name}`, now).catch(() => undefined);
    await this.call('DELETE', `${secretsPath}/${this.name}`).catch(() => undefined);
  }
}

function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
