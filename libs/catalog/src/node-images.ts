import data from '../data/node-images.json';

export interface NodeImage {
  /** What AKS reports as `nodeImageVersion`. */
  version: string;
  /** The Docker tag of the locally built image. */
  tag: string;
  released: string;
}

export class NodeImageCatalog {
  constructor(
    private readonly images: NodeImage[] = data.images,
    readonly repository: string = data.repository,
  ) {}

  list(): NodeImage[] {
    return this.images;
  }

  latest(): NodeImage {
    return this.images[this.images.length - 1];
  }

  /** The image new pools start on: `pinned` when given (it must be in the catalog), else the newest. */
  forNewPools(pinned?: string): NodeImage {
    if (!pinned) return this.latest();
    const image = this.find(pinned);
    if (!image) throw new Error(`node image version ${pinned} is not in the catalog (${this.images.map((i) => i.version).join(', ')})`);
    return image;
  }

  /** Catalog images newer than `version` (the upgrade targets of a pool on it). */
  newerThan(version: string): NodeImage[] {
    const at = this.images.findIndex((i) => i.version === version);
    return at < 0 ? [...this.images] : this.images.slice(at + 1);
  }

  find(version: string): NodeImage | undefined {
    return this.images.find((i) => i.version === version);
  }

  imageRef(image: NodeImage): string {
    return `${this.repository}:${image.tag}`;
  }
}
