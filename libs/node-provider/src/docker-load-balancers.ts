import Dockerode from 'dockerode';
import { labelFilter, networkName } from './docker-node.provider';
import { LoadBalancerEnv, loadBalancerPortKey, LoadBalancerRole, NODES_ALIAS, type LoadBalancerPort } from './load-balancer';
import { NodeLabels } from './node-provider';
import { dockerStatus, ProviderError } from './provider-error';

/** What the controller asks for: one Service's load balancer on its cluster's network. */
export interface LoadBalancerSpec {
  name: string;
  clusterId: string;
  image: string;
  /** The cluster's labels (managed, installation, cluster id, …) plus LoadBalancerLabels; the role is added. */
  labels: Record<string, string>;
  ports: LoadBalancerPort[];
}

/** A load-balancer container as Docker has it; `hostPorts` follows `ports`' container ports (absent while not running). */
export interface LoadBalancerHandle {
  name: string;
  id: string;
  running: boolean;
  labels: Record<string, string>;
  /** `<port>/tcp` or `<port>/udp` → the host port Docker chose. */
  hostPorts: Record<string, number>;
}

/** Small: it is one Node.js process that copies bytes (and a cap keeps a leak from hurting the host). */
const LB_MEMORY_BYTES = 128 * 2 ** 20;

export function buildLoadBalancerCreateOptions(spec: LoadBalancerSpec, publishHost: string, network: string): Dockerode.ContainerCreateOptions {
  const keys = spec.ports.map(loadBalancerPortKey);
  return {
    name: spec.name,
    Image: spec.image,
    Labels: { ...spec.labels, [NodeLabels.managed]: 'true', [NodeLabels.role]: LoadBalancerRole },
    // The image's command (the agent bundle) with another role: the image carries one program, not two.
    Env: [`${LoadBalancerEnv.role}=${LoadBalancerRole}`, `${LoadBalancerEnv.ports}=${JSON.stringify(spec.ports)}`, `${LoadBalancerEnv.target}=${NODES_ALIAS}`],
    ExposedPorts: Object.fromEntries(keys.map((k) => [k, {}])),
    HostConfig: {
      // HostPort '' lets Docker pick a free port; the controller reads it back and reports it in the Service's status.
      PortBindings: Object.fromEntries(keys.map((k) => [k, [{ HostIp: publishHost, HostPort: '' }]])),
      RestartPolicy: { Name: 'unless-stopped' },
      Init: true,
      NetworkMode: network,
      Memory: LB_MEMORY_BYTES,
      MemorySwap: LB_MEMORY_BYTES,
      // It only listens and connects: nothing else (binding a Service port below 1024 is all it may need).
      CapDrop: ['ALL'],
      CapAdd: ['NET_BIND_SERVICE'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      // As for nodes: NODES_ALIAS is answered by Docker's DNS at once; anything else must fail fast, not in 10 s.
      DnsOptions: ['timeout:1', 'attempts:1'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
    },
    NetworkingConfig: { EndpointsConfig: { [network]: {} } },
  };
}

/**
 * The load-balancer containers of LoadBalancer Services on a Docker engine. Separate from DockerNodeProvider on
 * purpose: they are no nodes (no agent, no pool) and the operation engine never converges them; the cluster's
 * teardown and the orphan reaper still find them, because they carry the cluster's labels (listNodes lists them).
 */
export class DockerLoadBalancers {
  constructor(
    private readonly docker: Dockerode,
    private readonly publishHost = '127.0.0.1',
  ) {}

  /** Every load-balancer container whose labels include `labels`. */
  async list(labels: Record<string, string>): Promise<LoadBalancerHandle[]> {
    const filters = { label: labelFilter({ ...labels, [NodeLabels.managed]: 'true', [NodeLabels.role]: LoadBalancerRole }) };
    const found = await this.run(() => this.docker.listContainers({ all: true, filters }), 'list load balancers');
    return found.map((c) => ({
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      id: c.Id,
      running: c.State === 'running',
      labels: c.Labels ?? {},
      hostPorts: Object.fromEntries(
        c.Ports.filter((p) => p.PublicPort > 0 && (p.IP === this.publishHost || !p.IP)).map((p) => [`${p.PrivatePort}/${p.Type}`, p.PublicPort]),
      ),
    }));
  }

  /** Creates the container unless it exists and starts it unless it runs; returns it with its host ports. */
  async ensure(spec: LoadBalancerSpec): Promise<LoadBalancerHandle> {
    let info = await this.inspect(spec.name);
    if (!info) {
      const network = await this.networkId(spec.clusterId);
      try {
        await this.docker.createContainer(buildLoadBalancerCreateOptions(spec, this.publishHost, network));
      } catch (err) {
        // 409: another worker created it a moment ago; it is the same container (the name says what it forwards).
        if (dockerStatus(err) !== 409) throw ProviderError.fromDocker(err, `create load balancer ${spec.name}`);
      }
      info = await this.inspect(spec.name);
      if (!info) throw new ProviderError(`load balancer ${spec.name} vanished while being created`, { code: 'Conflict', transient: true });
    }
    if (info.Config.Labels?.[NodeLabels.role] !== LoadBalancerRole) {
      throw new ProviderError(`a container named ${spec.name} exists and is not a Cerulean load balancer`, { code: 'Conflict', transient: false });
    }
    if (info.State.Status !== 'running') {
      try {
        await this.docker.getContainer(info.Id).start();
      } catch (err) {
        if (dockerStatus(err) !== 304) throw ProviderError.fromDocker(err, `start load balancer ${spec.name}`);
      }
      info = (await this.inspect(info.Id)) ?? info;
    }
    return this.toHandle(info);
  }

  /** Force-removes a load-balancer container; a missing one is not an error, another kind of container is left alone. */
  async remove(name: string): Promise<void> {
    const info = await this.inspect(name);
    if (!info || info.Config.Labels?.[NodeLabels.role] !== LoadBalancerRole) return;
    try {
      await this.docker.getContainer(info.Id).remove({ force: true });
    } catch (err) {
      if (dockerStatus(err) !== 404 && dockerStatus(err) !== 409) throw ProviderError.fromDocker(err, `remove load balancer ${name}`);
    }
  }

  private toHandle(info: Dockerode.ContainerInspectInfo): LoadBalancerHandle {
    const hostPorts: Record<string, number> = {};
    for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const b = (bindings ?? []).find((x) => x.HostPort !== '');
      if (b) hostPorts[key] = Number(b.HostPort);
    }
    return { name: info.Name.replace(/^\//, ''), id: info.Id, running: info.State.Status === 'running', labels: info.Config.Labels ?? {}, hostPorts };
  }

  /** The cluster network's id (the oldest of duplicates, as DockerNodeProvider keeps it). */
  private async networkId(clusterId: string): Promise<string> {
    const name = networkName(clusterId);
    const all = await this.run(() => this.docker.listNetworks({ filters: { name: [name] } }), `list networks ${name}`);
    const found = all.filter((n) => n.Name === name).sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created));
    if (!found.length) throw new ProviderError(`network ${name} does not exist`, { code: 'NetworkNotFound', transient: true });
    return found[0].Id;
  }

  private async inspect(idOrName: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw ProviderError.fromDocker(err, `inspect load balancer ${idOrName}`);
    }
  }

  private async run<T>(fn: () => Promise<T>, action: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw ProviderError.fromDocker(err, action);
    }
  }
}
