import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { issueKubeletServingCertificate, issueNodeClientCertificate } from '@cerulean/pki';
import { startKubeletServer } from '../../node-agent/src/kubelet-server';
import type { Harness } from './harness';

type KubeletServerOptions = Parameters<typeof startKubeletServer>[0];

/**
 * A kubelet server (our node agent's, with no runtime behind it) for node `nodeName`, with its files as the platform
 * writes them (it serves with kubelet.crt and asks the API server about its callers as system:node:<name>), and the
 * Node object in the API pointing at it, as a registered kubelet's does.
 */
export async function startTestKubelet(
  h: Harness,
  nodeName: string,
  options: Omit<KubeletServerOptions, 'nodeName' | 'nodeTls' | 'kubeDir' | 'apiUrl' | 'port' | 'log'>,
): Promise<{ kubelet: Server; port: number; kubeDir: string }> {
  const kubeDir = join(h.dir, 'kube');
  mkdirSync(kubeDir, { recursive: true });
  const serving = await issueKubeletServingCertificate(h.ca, nodeName);
  const node = await issueNodeClientCertificate(h.ca, nodeName);
  writeFileSync(join(kubeDir, 'ca.crt'), h.ca.certPem);
  writeFileSync(join(kubeDir, 'kubelet.crt'), serving.certPem);
  writeFileSync(join(kubeDir, 'kubelet.key'), serving.keyPem);
  const kubelet = startKubeletServer({
    ...options,
    nodeName,
    nodeTls: { ca: h.ca.certPem, cert: node.certPem, key: node.keyPem },
    log: () => undefined,
    kubeDir,
    apiUrl: h.server.url,
    port: 0,
  });
  if (!kubelet) throw new Error('the kubelet server did not start');
  if (!kubelet.listening) await new Promise((resolve) => kubelet.once('listening', resolve));
  const port = (kubelet.address() as AddressInfo).port;
  await h.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } }) });
  const status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } };
  await h.kubectl(['patch', 'node', nodeName, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  return { kubelet, port, kubeDir };
}
