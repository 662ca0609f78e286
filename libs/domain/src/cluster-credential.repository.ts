import { clusterNetwork, kubernetesServiceIp } from '@cerulean/catalog';
import { ArmError } from '@cerulean/arm';
import { Env, parsePortRange } from '@cerulean/config';
import { ClusterCredentialSet, createClusterCredentialSet, loadMasterKey, PemKeyPair, SecretBox } from '@cerulean/pki';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ClusterCredentialsEntity, ManagedClusterEntity } from './entities';

/** A cluster's credentials with their private keys opened. Lives in memory only. */
export interface ClusterCredentials extends ClusterCredentialSet {
  generation: number;
  rotatedAt: Date | null;
}

type KeyField = 'caKeySealed' | 'apiServerKeySealed' | 'adminKeySealed' | 'monitoringKeySealed';
type CertField = 'caCert' | 'apiServerCert' | 'adminCert' | 'monitoringCert';
const PARTS: readonly { part: keyof ClusterCredentialSet; cert: CertField; key: KeyField }[] = [
  { part: 'ca', cert: 'caCert', key: 'caKeySealed' },
  { part: 'apiServer', cert: 'apiServerCert', key: 'apiServerKeySealed' },
  { part: 'admin', cert: 'adminCert', key: 'adminKeySealed' },
  { part: 'monitoring', cert: 'monitoringCert', key: 'monitoringKeySealed' },
];

// Serializes port allocation across API processes (held to the end of the creating transaction).
const PORT_ALLOCATION_LOCK = 0x63_72_65_64; // "cred"

/**
 * The one place cluster credentials are made, sealed, stored and opened (API and worker share it), and
 * where a cluster gets its API server host port.
 */
@Injectable()
export class ClusterCredentialRepository {
  private readonly box: SecretBox;
  private readonly ports: { first: number; last: number };

  constructor(env: Env) {
    // At boot: a bad master key stops the process now, not at the first cluster.
    this.box = new SecretBox(loadMasterKey({ masterKey: env.MASTER_KEY, dataDir: env.DATA_DIR }));
    const range = parsePortRange(env.API_SERVER_PORTS);
    if (!range) throw new Error(`CERULEAN_API_SERVER_PORTS is not a port range: ${env.API_SERVER_PORTS}`);
    this.ports = range;
  }

  /**
   * Gives the cluster its API server port and its first credentials unless it has them; idempotent. Runs in the
   * transaction that creates the cluster row (or, for clusters older than credentials, on first use).
   */
  async provision(tx: EntityManager, cluster: ManagedClusterEntity): Promise<void> {
    if (cluster.apiServerPort === null || cluster.apiServerPort === undefined) {
      cluster.apiServerPort = await this.allocatePort(tx);
      await tx.update(ManagedClusterEntity, { id: cluster.id }, { apiServerPort: cluster.apiServerPort });
    }
    if (await tx.exists(ClusterCredentialsEntity, { where: { clusterId: cluster.id } })) return;
    const set = await createClusterCredentialSet(cluster.fqdn, cluster.name, kubernetesServiceIp(clusterNetwork(cluster.properties ?? {}).serviceCidr));
    await tx.insert(ClusterCredentialsEntity, this.seal(cluster.id, 1, set, null, null));
  }

  /** The cluster's current credentials, keys opened; undefined when it has none yet. */
  async load(tx: EntityManager, clusterId: string): Promise<ClusterCredentials | undefined> {
    const row = await tx.findOne(ClusterCredentialsEntity, { where: { clusterId } });
    if (!row) return undefined;
    const set = Object.fromEntries(
      PARTS.map(({ part, cert, key }) => [part, { certPem: row[cert], keyPem: this.box.open(row[key], context(clusterId, row.generation, part)) }]),
    ) as unknown as ClusterCredentialSet;
    return { ...set, generation: row.generation, rotatedAt: row.rotatedAt };
  }

  /**
   * The cluster's credentials; a cluster older than credentials gets them (and its port) now, with its row
   * locked. Sets `cluster.apiServerPort`.
   */
  async loadOrProvision(db: EntityManager, cluster: ManagedClusterEntity): Promise<ClusterCredentials> {
    const found = cluster.apiServerPort === null ? undefined : await this.load(db, cluster.id);
    if (found) return found;
    return db.transaction(async (tx) => {
      const locked = await tx.findOne(ManagedClusterEntity, { where: { id: cluster.id }, lock: { mode: 'pessimistic_write' } });
      if (!locked) throw ArmError.notFound('ResourceNotFound', `Managed cluster '${cluster.name}' no longer exists.`);
      await this.provision(tx, locked);
      const creds = await this.load(tx, cluster.id);
      if (!creds) throw ArmError.internal(`The credentials of managed cluster '${cluster.name}' could not be stored.`);
      cluster.apiServerPort = locked.apiServerPort;
      return creds;
    });
  }

  /**
   * Replaces the CA and every certificate with a new generation. A retry of the same operation finds its
   * own generation and changes nothing. Lock the cluster row first.
   */
  async rotate(tx: EntityManager, cluster: ManagedClusterEntity, operationId: string): Promise<number> {
    const row = await tx.findOne(ClusterCredentialsEntity, { where: { clusterId: cluster.id }, lock: { mode: 'pessimistic_write' } });
    if (!row) {
      await this.provision(tx, cluster);
      return 1;
    }
    if (row.rotationOperationId === operationId) return row.generation;
    const generation = row.generation + 1;
    const set = await createClusterCredentialSet(cluster.fqdn, cluster.name, kubernetesServiceIp(clusterNetwork(cluster.properties ?? {}).serviceCidr));
    const next = this.seal(cluster.id, generation, set, operationId, new Date());
    const { clusterId: _id, ...changes } = next;
    await tx.update(ClusterCredentialsEntity, { clusterId: cluster.id }, changes);
    return generation;
  }

  /**
   * Moves the cluster to another API server port of the range, one no other cluster has and `isFree` accepts (the
   * host may hold ports no cluster row knows of: a crashed daemon's leftover proxies). The kubeconfig and every
   * reader of `apiServerPort` follow. Sets `cluster.apiServerPort`; returns the new port.
   */
  async movePort(db: EntityManager, cluster: ManagedClusterEntity, isFree: (port: number) => Promise<boolean>): Promise<number> {
    return db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PORT_ALLOCATION_LOCK]);
      const candidates: { port: number }[] = await tx.query(
        `SELECT p AS port FROM generate_series($1::int, $2::int) AS p
          WHERE NOT EXISTS (SELECT 1 FROM managed_clusters c WHERE c.api_server_port = p)
          ORDER BY random() LIMIT 50`,
        [this.ports.first, this.ports.last],
      );
      for (const { port } of candidates) {
        if (!(await isFree(port))) continue;
        await tx.update(ManagedClusterEntity, { id: cluster.id }, { apiServerPort: port });
        cluster.apiServerPort = port;
        return port;
      }
      throw ArmError.conflict(
        'ApiServerPortsExhausted',
        `No free API server port was found for managed cluster '${cluster.name}' in CERULEAN_API_SERVER_PORTS=${this.ports.first}-${this.ports.last}: the host holds them.`,
      );
    });
  }

  /** A random free port of the range (random, so installations sharing a host rarely pick the same one). */
  private async allocatePort(tx: EntityManager): Promise<number> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PORT_ALLOCATION_LOCK]);
    const rows: { port: number }[] = await tx.query(
      `SELECT p AS port FROM generate_series($1::int, $2::int) AS p
        WHERE NOT EXISTS (SELECT 1 FROM managed_clusters c WHERE c.api_server_port = p)
        ORDER BY random() LIMIT 1`,
      [this.ports.first, this.ports.last],
    );
    if (rows.length === 0) {
      throw ArmError.conflict(
        'ApiServerPortsExhausted',
        `Every API server port of this installation (CERULEAN_API_SERVER_PORTS=${this.ports.first}-${this.ports.last}) is taken. Delete a cluster or widen the range.`,
      );
    }
    return rows[0].port;
  }

  private seal(clusterId: string, generation: number, set: ClusterCredentialSet, operationId: string | null, rotatedAt: Date | null): ClusterCredentialsEntity {
    const row = new ClusterCredentialsEntity();
    row.clusterId = clusterId;
    row.generation = generation;
    row.masterKeyId = this.box.keyId;
    row.rotationOperationId = operationId;
    row.rotatedAt = rotatedAt;
    for (const { part, cert, key } of PARTS) {
      const pair: PemKeyPair = set[part];
      row[cert] = pair.certPem;
      row[key] = this.box.seal(pair.keyPem, context(clusterId, generation, part));
    }
    return row;
  }
}

/** Binds a sealed key to its cluster, generation and role: a ciphertext moved elsewhere does not open. */
const context = (clusterId: string, generation: number, part: string): string => `cluster-credentials/${clusterId}/${generation}/${part}`;
