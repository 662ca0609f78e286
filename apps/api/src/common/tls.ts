import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '@cerulean/pki';

export interface ServerTls {
  caPath: string;
  cert: string;
  key: string;
}

/**
 * The API only speaks HTTPS (the Azure SDKs refuse to send a bearer token over http). On first start a
 * local CA and a server certificate for localhost/127.0.0.1 are made in the data folder; later starts reuse them.
 */
export async function ensureServerTls(dataDir: string): Promise<ServerTls> {
  const dir = resolve(dataDir, 'tls');
  const caPath = join(dir, 'ca.pem');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server-key.pem');
  if (!existsSync(caPath) || !existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = await createCertificateAuthority('Cerulean Local CA', 3650);
    const server = await issueCertificate(ca, {
      commonName: 'localhost',
      dnsNames: ['localhost', '*.localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
      usage: 'server',
      validDays: 825,
    });
    writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
    writeFileSync(keyPath, server.keyPem, { mode: 0o600 });
    writeFileSync(certPath, server.certPem);
    writeFileSync(caPath, ca.certPem);
  }
  return { caPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}
