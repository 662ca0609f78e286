import { ArmError } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { ClusterCredentialRepository, ManagedClusterEntity, OperationEntity, OperationKind, PowerStateCode } from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ClustersService } from '../clusters/clusters.service';
import { ArmCall } from '../common/arm-request';
import { KubeconfigUser, renderKubeconfig } from './kubeconfig';

/** The three AKS credential calls; the value is the kubeconfig's `name` in the response. */
export enum CredentialKind {
  Admin = 'clusterAdmin',
  User = 'clusterUser',
  MonitoringUser = 'clusterMonitoringUser',
}

export interface CredentialResults {
  kubeconfigs: { name: string; value: string }[];
}

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** listCluster{Admin,User,MonitoringUser}Credential (R10.3) and rotateClusterCertificates (R10.4). */
@Injectable()
export class CredentialsService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly clusters: ClustersService,
    private readonly credentials: ClusterCredentialRepository,
    private readonly starter: OperationStarter,
    private readonly env: Env,
  ) {}

  async list(sub: string, rgName: string, name: string, kind: CredentialKind, query: Record<string, string | undefined>): Promise<CredentialResults> {
    const { rg, cluster } = await this.clusters.get(sub, rgName, name);
    const props = cluster.properties;
    const aad = typeof props.aadProfile === 'object' && props.aadProfile !== null ? (props.aadProfile as Record<string, unknown>) : undefined;
    const format = parseFormat(query.format);
    const host = this.serverHost(cluster, query['server-fqdn']);

    let user: KubeconfigUser | undefined;
    if (kind === CredentialKind.User && aad) {
      const tenantId = typeof aad.tenantID === 'string' && aad.tenantID ? aad.tenantID : this.env.TENANT_ID;
      user = { kind: format ?? 'exec', tenantId };
    } else if (props.disableLocalAccounts === true) {
      // AKS's answer for static credentials on such a cluster (wire text quoted in hashicorp/terraform-provider-azurerm#15489).
      throw ArmError.badRequest('BadRequest', 'Getting static credential is not allowed because this cluster is set to disable local accounts.');
    }
    const creds = await this.credentials.loadOrProvision(this.db, cluster);
    user ??=
      kind === CredentialKind.MonitoringUser
        ? { kind: 'certificate', certPem: creds.monitoring.certPem, keyPem: creds.monitoring.keyPem }
        : { kind: 'certificate', certPem: creds.admin.certPem, keyPem: creds.admin.keyPem };

    const value = renderKubeconfig({
      clusterName: cluster.name,
      contextName: kind === CredentialKind.Admin ? `${cluster.name}-admin` : cluster.name,
      userName: `${kind}_${rg.name}_${cluster.name}`,
      server: `https://${host.includes(':') ? `[${host}]` : host}:${cluster.apiServerPort}`,
      caPem: creds.ca.certPem,
      user,
    });
    return { kubeconfigs: [{ name: kind, value: Buffer.from(value, 'utf8').toString('base64') }] };
  }

  /** 202 + operation: a new CA and certificates, then the control plane restarts on them. */
  async rotate(sub: string, rgName: string, name: string, call: ArmCall): Promise<OperationEntity> {
    const { operation } = await this.starter.run(async (tx) => {
      const { rg, cluster } = await this.clusters.get(sub, rgName, name, tx, true);
      if (cluster.powerState !== PowerStateCode.Running) {
        throw ArmError.conflict(
          'OperationNotAllowed',
          `Rotating the certificates of managed cluster '${cluster.name}' is not allowed while it is stopped. Start the cluster first.`,
        );
      }
      return { operation: await this.starter.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterRotateCertificates, call) };
    });
    return operation;
  }

  /**
   * AKS takes `server-fqdn=public` (its private clusters also have a private FQDN). Cerulean clusters are public,
   * so `public` is the cluster fqdn; any other host name or IPv4 address replaces the host, e.g. `127.0.0.1`
   * where `*.localhost` does not resolve (the serving certificate names localhost and 127.0.0.1 too).
   */
  private serverHost(cluster: ManagedClusterEntity, requested: string | undefined): string {
    if (requested === undefined || requested === '' || requested.toLowerCase() === 'public') return cluster.fqdn;
    if (requested.toLowerCase() === 'private') {
      throw ArmError.badRequest('BadRequest', `Managed cluster '${cluster.name}' is not a private cluster: it has no private FQDN.`, 'server-fqdn');
    }
    if (HOSTNAME.test(requested) || IPV4.test(requested)) return requested;
    throw ArmError.invalidParameter('server-fqdn', `'${requested}' is not a host name: use 'public' or a DNS name or IPv4 address that reaches this machine.`);
  }
}

function parseFormat(format: string | undefined): 'azure' | 'exec' | undefined {
  if (format === undefined || format === '') return undefined;
  const f = format.toLowerCase();
  if (f === 'azure' || f === 'exec') return f;
  throw ArmError.invalidParameter('format', `The format '${format}' is not supported. Supported formats are 'azure' and 'exec'.`);
}
