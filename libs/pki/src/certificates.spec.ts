import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, issueCertificate } from './certificates';

describe('certificates', () => {
  it('issues a server certificate that verifies against its CA and names localhost and 127.0.0.1', async () => {
    const ca = await createCertificateAuthority('Test CA', 10);
    const sut = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 5 });
    const caCert = new X509Certificate(ca.certPem);
    const leaf = new X509Certificate(sut.certPem);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
  });

  it('puts the organisation in a client certificate subject', async () => {
    const ca = await createCertificateAuthority('Cluster CA', 10);
    const sut = await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 5 });
    expect(new X509Certificate(sut.certPem).subject).toContain('O=system:masters');
  });
});
