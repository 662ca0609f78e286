import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createClusterCredentialSet, type ClusterCredentialSet } from '@cerulean/pki';
import { kubeRequest } from '../src/handlers/kube-api.client';

// A real HTTPS server with the cluster's serving certificate, standing in for a cluster's API server on its published
// port: what counts here is the connections the worker opens to it.
describe('kubeRequest (the worker to a cluster API server)', () => {
  const fqdn = 'kreq-test.hcp.eastus.azmk8s.io';
  let creds: ClusterCredentialSet;
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();
  let connections = 0;
  let answered = 0;
  let resetNext = false;

  beforeAll(async () => {
    creds = await createClusterCredentialSet(fqdn, 'kreq-test');
    server = createServer(
      { cert: creds.apiServer.certPem, key: creds.apiServer.keyPem, ca: creds.ca.certPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        if (resetNext) {
          // Gone without an answer, as a control plane killed while a kept connection was being reused.
          resetNext = false;
          req.socket.destroy();
          return;
        }
        answered += 1;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            path: req.url,
            user: (req.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } }).getPeerCertificate().subject.CN,
          }),
        );
      },
    );
    server.on('secureConnection', (s: Socket) => {
      connections += 1;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('keeps its connection for the next call, with the admin certificate', async () => {
    const before = connections;
    for (let i = 0; i < 5; i++) {
      const r = await kubeRequest('127.0.0.1', port, fqdn, creds, 'GET', `/api/v1/nodes/n${i}`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ path: `/api/v1/nodes/n${i}`, user: 'masterclient' });
    }
    expect(connections - before).toBe(1);
  });

  it('makes a call again on a new connection when the kept one was reset as it was reused', async () => {
    await kubeRequest('127.0.0.1', port, fqdn, creds, 'GET', '/readyz');
    resetNext = true;
    const [before, answers] = [connections, answered];
    const r = await kubeRequest('127.0.0.1', port, fqdn, creds, 'PATCH', '/api/v1/nodes/n0', { json: { spec: { unschedulable: true } } });
    expect(r.status).toBe(200);
    expect(resetNext).toBe(false);
    expect(connections - before).toBe(1);
    expect(answered - answers).toBe(1);
  });
});
