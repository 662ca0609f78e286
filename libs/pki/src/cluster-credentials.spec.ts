import { X509Certificate } from 'node:crypto';
import { createClusterCredentialSet, issueApiServerKubeletClientCertificate, issueKubeletServingCertificate } from './cluster-credentials';

describe('createClusterCredentialSet', () => {
  const fqdn = 'demo-1a2b3c4d.hcp.eastus.cerulean.localhost';

  it('signs the serving and client certificates with the cluster CA, and not with another cluster CA', async () => {
    const sut = await createClusterCredentialSet(fqdn, 'demo');
    const other = await createClusterCredentialSet(fqdn, 'other');
    const ca = new X509Certificate(sut.ca.certPem);
    const otherCa = new X509Certificate(other.ca.certPem);
    for (const leaf of [sut.apiServer, sut.admin, sut.monitoring].map((p) => new X509Certificate(p.certPem))) {
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.verify(otherCa.publicKey)).toBe(false);
    }
  });

  it('names the fqdn and the in-cluster names in the serving certificate', async () => {
    const sut = new X509Certificate((await createClusterCredentialSet(fqdn, 'demo')).apiServer.certPem);
    for (const host of [fqdn, 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']) {
      expect(sut.checkHost(host)).toBe(host);
    }
    expect(sut.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(sut.checkHost('other.cerulean.localhost')).toBeUndefined();
  });

  it('issues the admin client as AKS does (CN masterclient, O system:masters) and the monitoring user apart from it', async () => {
    const sut = await createClusterCredentialSet(fqdn, 'demo');
    const admin = new X509Certificate(sut.admin.certPem);
    expect(admin.subject.split('\n').sort()).toEqual(['CN=masterclient', 'O=system:masters']);
    expect(admin.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(new X509Certificate(sut.monitoring.certPem).subject).not.toContain('system:masters');
  });

  it('gives the CA 30 years and the leaves 2 years', async () => {
    const sut = await createClusterCredentialSet(fqdn, 'demo');
    const years = (pem: string) => (Date.parse(new X509Certificate(pem).validTo) - Date.now()) / (365 * 24 * 3600 * 1000);
    expect(years(sut.ca.certPem)).toBeCloseTo(30, 0);
    expect(years(sut.admin.certPem)).toBeCloseTo(2, 0);
  });
});

describe('kubelet certificates', () => {
  it("serves a node's kubelet under the node's name only, signed by the cluster CA", async () => {
    const creds = await createClusterCredentialSet('x.example', 'demo');
    const sut = new X509Certificate((await issueKubeletServingCertificate(creds.ca, 'aks-pool1-12345678-vmss000000')).certPem);
    expect(sut.checkIssued(new X509Certificate(creds.ca.certPem))).toBe(true);
    expect(sut.checkHost('aks-pool1-12345678-vmss000000')).toBe('aks-pool1-12345678-vmss000000');
    expect(sut.checkHost('aks-pool1-12345678-vmss000001')).toBeUndefined();
    expect(sut.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
  });

  it("gives the API server kubeadm's kubelet client identity", async () => {
    const creds = await createClusterCredentialSet('x.example', 'demo');
    const sut = new X509Certificate((await issueApiServerKubeletClientCertificate(creds.ca)).certPem);
    expect(sut.subject.split('\n').sort()).toEqual(['CN=kube-apiserver-kubelet-client', 'O=system:masters']);
    expect(sut.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
  });
});
