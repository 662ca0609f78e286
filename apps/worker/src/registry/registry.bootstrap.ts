import { Env } from '@cerulean/config';
import { imageNamespace, LocalRegistry, NODE_PROVIDER, NodeLabels, NodeProvider, platformImages, seedRegistry } from '@cerulean/node-provider';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InstallationService } from '../handlers/installation.service';

/**
 * Brings up the installation's registry when the worker starts (so `npm start` and the integration setup get it with
 * no extra step), joins it to the clusters' networks that already exist (new ones join as the provider creates them),
 * then builds and pushes the platform's images in the background. A registry that cannot start is logged, not fatal:
 * clusters work without it, only pods using its images fail to pull.
 */
@Injectable()
export class RegistryBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(RegistryBootstrap.name);
  /** The background seeding, for tests and an orderly shutdown. */
  seeding: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: LocalRegistry,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly installation: InstallationService,
    private readonly env: Env,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.REGISTRY_PORT) return;
    try {
      await this.registry.ensure();
    } catch (err) {
      this.logger.error(`the image registry on ${this.registry.host} did not start: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const networks = (await this.provider.listNetworks({ [NodeLabels.installation]: this.installation.id() })).filter((x) => x.labels[NodeLabels.clusterId]);
    for (const n of networks) {
      await this.registry.connect(n.id).catch((err: unknown) => this.logger.warn(`registry not joined to ${n.name}: ${String(err)}`));
    }
    this.logger.log(`image registry serving on ${this.registry.host} (on ${networks.length} cluster networks)`);
    this.seeding = this.seed();
    this.registry.seeding = this.seeding;
  }

  private async seed(): Promise<void> {
    try {
      const kubectl = findKubectl(this.env.KUBECTL);
      if (!kubectl) this.logger.warn('no kubectl found (CERULEAN_KUBECTL, KUBECTL, PATH): runCommand pods will have none');
      const results = await seedRegistry(this.registry, await platformImages(imageNamespace(this.env.NODE_IMAGE_REPOSITORY), { kubectl }));
      const done = results.map((r) => `${this.registry.host}/${r.path} (${r.pushed ? 'pushed' : 'up to date'})`);
      this.logger.log(`registry images: ${done.join(', ')}`);
    } catch (err) {
      this.logger.error(`pushing the platform images to ${this.registry.host} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The kubectl for runCommand's image: the configured one, else `KUBECTL` (what the tests export), else the first on PATH. */
export function findKubectl(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = configured?.trim() || env.KUBECTL?.trim();
  if (explicit) return explicit;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, 'kubectl'), constants.X_OK);
      return join(dir, 'kubectl');
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}
