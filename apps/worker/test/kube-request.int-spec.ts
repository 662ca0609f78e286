import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate, type PemKeyPair } from '@cerulean/pki';
import { CommandPod } from '../src/handlers/command-pod';
import { kubeRequest, type KubeCall } from '../src/handlers/kube-api.client';

jest.setTimeout(30_000);

/**
 * A cluster's API server that goes away in the middle of an answer (its control plane restarting, as a certificate
 * rotation does): the worker's call fails, so what waits on it asks again or gives up at its deadline, instead of
 * waiting for ever on an answer that will never end. Two runCommand operations stayed InProgress so in the fuzz test.
 */
describe('kubeRequest when the connection drops mid-answer', () => {
  let ca: PemKeyPair;
  let admin: PemKeyPair;
  let server: Server;
  let port: number;
  let answered = 0;

  beforeAll(async () => {
    ca = await createCertificateAuthority('kubernetes', 1);
    const serving = await issueCertificate(ca, { commonName: 'apiserver', dnsNames: ['localhost'], usage: 'server', validDays: 1 });
    admin = await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 1 });
    // Promises 4 KiB of JSON, sends the first bytes, then drops the connection.
    server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true }, (req, res) => {
      answered++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"kind":"Pod","status":{');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  const call: KubeCall = (method, path, body) => kubeRequest('127.0.0.1', port, 'localhost', { ca, admin }, method, path, body);

  it('fails the call at once', async () => {
    const started = Date.now();
    await expect(call('GET', '/api/v1/namespaces/aks-command/pods/p')).rejects.toThrow(/aborted/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("lets a command pod's wait ask again and end at its deadline", async () => {
    const before = answered;
    const end = await new CommandPod(call, '0f8e2c5a-7d3b-4c1e-9a6f-2b4d6e8f0a1c', 1024).wait(Date.now() + 2_000);
    expect(end.kind).toBe('timedOut');
    // Asked more than once (every 500 ms) instead of hanging on the first answer.
    expect(answered - before).toBeGreaterThan(2);
  });
});
