import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import type { Informer, InformerHandlers } from '../src/client/informer';
import { KubeClient, type KubeObject } from '../src/client/kube-client';
import type { Controller, ControllerContext } from '../src/controllers/controller';
import { InformerHub } from '../src/controllers/informer-hub';

/** What a lagging cache does to an informer's reads: replaces its `get` (and its lists) with older views. */
export type Lag = <T extends KubeObject>(informer: Informer<T>) => void;

/** A hub whose cache of one resource (`cronjobs`, `replicasets`…) lags behind the API as `lag` makes it. */
export class LaggingHub extends InformerHub {
  private readonly lagged = new WeakSet<object>();

  constructor(
    client: KubeClient,
    private readonly resource: string,
    private readonly lag: Lag,
  ) {
    super(client);
  }

  override informer<T extends KubeObject>(path: string, handlers: InformerHandlers<T>): Informer<T> {
    const informer = super.informer(path, handlers);
    if (path.endsWith(`/${this.resource}`) && !this.lagged.has(informer)) {
      this.lagged.add(informer);
      this.lag(informer);
    }
    return informer;
  }
}

export interface LaggingBed {
  h: Harness;
  client: KubeClient;
  close(): Promise<void>;
}

/** The API server on a private etcd, its admin client, and one controller whose cache of `resource` lags. */
export async function startLaggingController(
  resource: string,
  lag: Lag,
  makeController: (context: ControllerContext) => Controller,
  prepare?: (client: KubeClient) => Promise<void>,
): Promise<LaggingBed> {
  const h = await startHarness();
  const client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
  await prepare?.(client);
  const hub = new LaggingHub(client, resource, lag);
  const controller = makeController({ client, informers: hub });
  hub.start();
  controller.start();
  return {
    h,
    client,
    close: async () => {
      await controller.stop();
      await hub.stop();
      client.close();
      await h.close();
    },
  };
}
