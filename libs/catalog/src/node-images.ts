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

  find(version: string): NodeImage | undefined {
    return this.images.find((i) => i.version === version);
  }

  imageRef(image: NodeImage): string {
    return `${this.repository}:${image.tag}`;
  }
}
