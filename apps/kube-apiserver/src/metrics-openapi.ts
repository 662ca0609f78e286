/**
 * OpenAPI schemas of metrics.k8s.io/v1beta1 (k8s.io/metrics' types, as metrics-server publishes them): they are not in
 * the core API's spec that data/openapi-schemas.json is extracted from.
 */
type Schema = Record<string, unknown>;

const P = 'io.k8s.metrics.pkg.apis.metrics.v1beta1';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const gvk = (kind: string) => [{ group: 'metrics.k8s.io', kind, version: 'v1beta1' }];
const common = {
  apiVersion: {
    description:
      'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
    type: 'string',
  },
  kind: {
    description:
      'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
    type: 'string',
  },
};
const usage = {
  additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity'),
  description: 'The memory usage is the memory working set.',
  type: 'object',
};
const interval = {
  timestamp: {
    ...ref('io.k8s.apimachinery.pkg.apis.meta.v1.Time'),
    description: 'The following fields define time interval from which metrics were collected from the interval [Timestamp-Window, Timestamp].',
  },
  window: { type: 'string' },
};
const objectMeta = {
  ...ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
  default: {},
  description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
};
const listMeta = {
  ...ref('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta'),
  default: {},
  description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

export const METRICS_SCHEMAS: Record<string, Schema> = {
  [`${P}.ContainerMetrics`]: {
    description: 'ContainerMetrics sets resource usage metrics of a container.',
    properties: { name: { description: 'Container name corresponding to the one from pod.spec.containers.', type: 'string' }, usage },
    required: ['name', 'usage'],
    type: 'object',
  },
  [`${P}.NodeMetrics`]: {
    description: 'NodeMetrics sets resource usage metrics of a node.',
    properties: { ...common, metadata: objectMeta, ...interval, usage },
    required: ['timestamp', 'window', 'usage'],
    type: 'object',
    'x-kubernetes-group-version-kind': gvk('NodeMetrics'),
  },
  [`${P}.NodeMetricsList`]: {
    description: 'NodeMetricsList is a list of NodeMetrics.',
    properties: {
      ...common,
      items: { description: 'List of node metrics.', items: { ...ref(`${P}.NodeMetrics`), default: {} }, type: 'array' },
      metadata: listMeta,
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': gvk('NodeMetricsList'),
  },
  [`${P}.PodMetrics`]: {
    description: 'PodMetrics sets resource usage metrics of a pod.',
    properties: {
      ...common,
      containers: {
        description: 'Metrics for all containers are collected within the same time window.',
        items: { ...ref(`${P}.ContainerMetrics`), default: {} },
        type: 'array',
        'x-kubernetes-list-type': 'atomic',
      },
      metadata: objectMeta,
      ...interval,
    },
    required: ['timestamp', 'window', 'containers'],
    type: 'object',
    'x-kubernetes-group-version-kind': gvk('PodMetrics'),
  },
  [`${P}.PodMetricsList`]: {
    description: 'PodMetricsList is a list of PodMetrics.',
    properties: {
      ...common,
      items: { description: 'List of pod metrics.', items: { ...ref(`${P}.PodMetrics`), default: {} }, type: 'array' },
      metadata: listMeta,
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': gvk('PodMetricsList'),
  },
};
