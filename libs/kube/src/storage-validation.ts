import { dns1123SubdomainErrors, qualifiedNameErrors } from './name-validation';
import { isPlainObject, jsonEqual, JsonObject, KubeObject } from './object';
import { canonicalQuantity, isQuantity, milliOf, quantitySign } from './quantity';
import { forbiddenCause, invalidCause, notSupportedCause, requiredCause, StatusCause } from './status';

/**
 * Upstream's validation of the storage kinds (pkg/apis/core/validation ValidatePersistentVolumeClaim[Update],
 * ValidatePersistentVolume[Update]; pkg/apis/storage/validation ValidateStorageClass[Update]) and the helpers the API
 * server's storage admission and printers share (storage/util, apis/core/helper).
 */

export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
/** The claim's or volume's class before spec.storageClassName existed; still read first, as upstream's helpers do. */
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const PV_RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const CLASS_RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;
const QUANTITY_REGEX = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** A PersistentVolume's sources in the order upstream checks them, with the path its "more than 1" error names. */
const PV_SOURCES: [key: string, forbiddenAt: string][] = [
  ['hostPath', 'hostPath'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['glusterfs', 'glusterfs'],
  ['flocker', 'flocker'],
  ['nfs', 'nfs'],
  ['rbd', 'rbd'],
  ['quobyte', 'quobyte'],
  ['cephfs', 'cephFS'],
  ['iscsi', 'iscsi'],
  ['cinder', 'cinder'],
  ['fc', 'fc'],
  ['flexVolume', ''],
  ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'],
  ['scaleIO', 'scaleIO'],
  ['local', 'local'],
  ['storageos', 'storageos'],
  ['csi', 'csi'],
];
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const given = (v: unknown): boolean => v !== undefined && v !== null;

/** storageutil.IsDefaultAnnotation: the class is marked default (GA or beta annotation). */
export function isDefaultStorageClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true';
}

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "". */
export function claimStorageClass(pvc: KubeObject): string {
  const beta = pvc.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (beta !== undefined) return beta;
  const name = asObj(pvc.spec).storageClassName;
  return typeof name === 'string' ? name : '';
}

/** PersistentVolumeClaimHasClass: a class was asked for, even "" (no class), by the field or the beta annotation. */
export function claimHasStorageClass(pvc: KubeObject): boolean {
  return given(asObj(pvc.spec).storageClassName) || pvc.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined;
}

/** GetPersistentVolumeClass: the beta annotation, else spec.storageClassName. */
export function volumeStorageClass(pv: KubeObject): string {
  const beta = pv.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (beta !== undefined) return beta;
  const name = asObj(pv.spec).storageClassName;
  return typeof name === 'string' ? name : '';
}

/** GetAccessModesAsString: `RWO,ROX,RWX,RWOP`, in that order, each once. */
export function accessModesText(modes: unknown): string {
  const have = new Set(asStrings(modes));
  return (
    [
      ['ReadWriteOnce', 'RWO'],
      ['ReadOnlyMany', 'ROX'],
      ['ReadWriteMany', 'RWX'],
      ['ReadWriteOncePod', 'RWOP'],
    ] as const
  )
    .filter(([mode]) => have.has(mode))
    .map(([, short]) => short)
    .join(',');
}

/**
 * Decoding's refusal of a storage object whose quantities do not parse (upstream answers it 400, before validation):
 * the message, or undefined.
 */
export function storageDecodeError(kind: string, obj: KubeObject): string | undefined {
  const spec = asObj(obj.spec);
  const status = asObj(obj.status);
  const lists =
    kind === 'PersistentVolumeClaim'
      ? [asObj(spec.resources).requests, asObj(spec.resources).limits, status.capacity, status.allocatedResources]
      : kind === 'PersistentVolume'
        ? [spec.capacity]
        : [];
  const bad = lists.some((l) => Object.values(asObj(l)).some((q) => !(typeof q === 'number' || (typeof q === 'string' && isQuantity(q)))));
  return bad ? `${kind} in version "v1" cannot be handled as a ${kind}: quantities must match the regular expression ${QUANTITY_REGEX}` : undefined;
}

function validateAccessModes(modes: unknown, at: string, out: StatusCause[]): void {
  let once = false;
  let other = false;
  for (const mode of asStrings(modes)) {
    if (!ACCESS_MODES.includes(mode)) out.push(notSupportedCause(at, mode, ACCESS_MODES));
    else if (mode === 'ReadWriteOncePod') once = true;
    else other = true;
  }
  if (once && other) out.push(forbiddenCause(at, 'may not use ReadWriteOncePod with other access modes'));
}

function validateClassName(name: unknown, at: string, out: StatusCause[]): void {
  if (typeof name === 'string' && name) for (const msg of dns1123SubdomainErrors(name)) out.push(invalidCause(at, name, msg));
}

function validateDataSource(ref: unknown, at: string, out: StatusCause[]): void {
  if (!isPlainObject(ref)) return;
  if (!ref.name) out.push(requiredCause(`${at}.name`));
  if (!ref.kind) out.push(requiredCause(`${at}.kind`));
  const group = typeof ref.apiGroup === 'string' ? ref.apiGroup : '';
  if (!group && ref.kind !== 'PersistentVolumeClaim')
    out.push(invalidCause(at, ref.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (group) for (const msg of dns1123SubdomainErrors(group)) out.push(invalidCause(`${at}.apiGroup`, group, msg));
}

/** ValidatePersistentVolumeClaimSpec, under `at` (`spec`, or a template's `spec.volumeClaimTemplates[0].spec`). */
export function validateClaimSpec(spec: JsonObject, at = 'spec'): StatusCause[] {
  const out: StatusCause[] = [];
  if (!asStrings(spec.accessModes).length) out.push(requiredCause(`${at}.accessModes`, 'at least 1 access mode is required'));
  validateAccessModes(spec.accessModes, `${at}.accessModes`, out);
  const storage = asObj(asObj(spec.resources).requests).storage;
  const storageAt = `${at}.resources[storage]`;
  if (!given(storage)) out.push(requiredCause(storageAt));
  else if (quantitySign(String(storage)) <= 0) out.push(invalidCause(storageAt, canonicalQuantity(String(storage)), 'must be greater than zero'));
  validateClassName(spec.storageClassName, `${at}.storageClassName`, out);
  if (given(spec.volumeMode) && !VOLUME_MODES.includes(String(spec.volumeMode))) out.push(notSupportedCause(`${at}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  validateDataSource(spec.dataSource, `${at}.dataSource`, out);
  validateDataSource(spec.dataSourceRef, `${at}.dataSourceRef`, out);
  return out;
}

function validateNoBacksteps(path: string, at: string, out: StatusCause[]): void {
  if (path.split('/').includes('..')) out.push(invalidCause(at, path, "must not contain '..'"));
}

/** The checks of the volume sources a volume here is made of (local, hostPath, nfs, csi); the others are counted only. */
function validateVolumeSource(key: string, source: JsonObject, at: string, out: StatusCause[]): void {
  const path = typeof source.path === 'string' ? source.path : '';
  switch (key) {
    case 'local':
    case 'hostPath':
      if (!path) return void out.push(requiredCause(`${at}.path`));
      validateNoBacksteps(path, `${at}.path`, out);
      if (key === 'hostPath' && given(source.type) && !HOST_PATH_TYPES.includes(String(source.type)))
        out.push(notSupportedCause(`${at}.type`, source.type, HOST_PATH_TYPES));
      return;
    case 'nfs':
      if (!source.server) out.push(requiredCause(`${at}.server`));
      if (!path) out.push(requiredCause(`${at}.path`));
      else if (!path.startsWith('/')) out.push(invalidCause(`${at}.path`, path, 'must be an absolute path'));
      return;
    case 'csi':
      if (!source.driver) out.push(requiredCause(`${at}.driver`));
      else for (const msg of qualifiedNameErrors(String(source.driver).toLowerCase())) out.push(invalidCause(`${at}.driver`, source.driver, msg));
      if (!source.volumeHandle) out.push(requiredCause(`${at}.volumeHandle`));
      return;
  }
}

/** validateVolumeNodeAffinity: a volume's node affinity must say which nodes, by at least one term. */
function validateVolumeNodeAffinity(affinity: JsonObject, at: string, out: StatusCause[]): void {
  if (!isPlainObject(affinity.required)) return void out.push(requiredCause(`${at}.required`, 'must specify required node constraints'));
  const terms = Array.isArray(affinity.required.nodeSelectorTerms) ? affinity.required.nodeSelectorTerms : [];
  if (!terms.length) return void out.push(requiredCause(`${at}.required.nodeSelectorTerms`, 'must have at least one node selector term'));
  terms.forEach((term, i) => {
    const exprs = Array.isArray(asObj(term).matchExpressions) ? (asObj(term).matchExpressions as unknown[]) : [];
    exprs.forEach((raw, j) => {
      const e = asObj(raw);
      const eAt = `${at}.required.nodeSelectorTerms[${i}].matchExpressions[${j}]`;
      const values = asStrings(e.values);
      if (e.operator === 'In' || e.operator === 'NotIn') {
        if (!values.length) out.push(requiredCause(`${eAt}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
        if (values.length) out.push(forbiddenCause(`${eAt}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      } else if (e.operator === 'Gt' || e.operator === 'Lt') {
        if (values.length !== 1) out.push(requiredCause(`${eAt}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      } else out.push(invalidCause(`${eAt}.operator`, e.operator ?? '', 'not a valid selector operator'));
      for (const msg of qualifiedNameErrors(String(e.key ?? ''))) out.push(invalidCause(`${eAt}.key`, e.key ?? '', msg));
    });
  });
}

/** ValidatePersistentVolumeSpec: access modes, capacity (storage only, positive), one volume source, class and mode. */
export function validateVolumeSpec(spec: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  if (!asStrings(spec.accessModes).length) out.push(requiredCause('spec.accessModes'));
  validateAccessModes(spec.accessModes, 'spec.accessModes', out);
  const capacity = asObj(spec.capacity);
  if (!Object.keys(capacity).length) out.push(requiredCause('spec.capacity'));
  if (!given(capacity.storage) || Object.keys(capacity).length > 1)
    out.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${goMap(capacity)}: supported values: "storage"`, field: 'spec.capacity' });
  for (const [k, q] of Object.entries(capacity)) {
    const text = String(q);
    if (quantitySign(text) < 0) out.push(invalidCause(`spec.capacity[${k}]`, Math.trunc(milliOf(text.slice(1)) / -1000), 'must be a valid resource quantity'));
    if (quantitySign(text) <= 0) out.push(invalidCause(`spec.capacity[${k}]`, canonicalQuantity(text), 'must be greater than zero'));
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (given(policy) && policy !== '' && !PV_RECLAIM_POLICIES.includes(String(policy)))
    out.push(notSupportedCause('spec.persistentVolumeReclaimPolicy', policy, PV_RECLAIM_POLICIES));
  const affinity = isPlainObject(spec.nodeAffinity) ? spec.nodeAffinity : undefined;
  if (affinity) validateVolumeNodeAffinity(affinity, 'spec.nodeAffinity', out);
  let sources = 0;
  for (const [key, forbiddenAt] of PV_SOURCES) {
    const source = spec[key];
    if (!isPlainObject(source)) continue;
    if (sources > 0 && forbiddenAt) {
      out.push(forbiddenCause(`spec.${forbiddenAt}`, 'may not specify more than 1 volume type'));
      continue;
    }
    sources++;
    validateVolumeSource(key, source, `spec.${key}`, out);
    if (key === 'local' && !affinity) out.push(requiredCause('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (!sources) out.push(requiredCause('spec', 'must specify a volume type'));
  const hostPath = asObj(spec.hostPath).path;
  if (typeof hostPath === 'string' && hostPath.replace(/\/+/g, '/').replace(/(.)\/$/, '$1') === '/' && policy === 'Recycle')
    out.push(forbiddenCause('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  validateClassName(spec.storageClassName, 'spec.storageClassName', out);
  if (given(spec.volumeMode) && !VOLUME_MODES.includes(String(spec.volumeMode))) out.push(notSupportedCause('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
  return out;
}

/** Go's %v of a ResourceList, as a NotSupported error about capacity prints it: `map[cpu:1 storage:1Gi]`. */
const goMap = (m: JsonObject): string =>
  `map[${Object.keys(m)
    .sort()
    .map((k) => `${k}:${canonicalQuantity(String(m[k]))}`)
    .join(' ')}]`;

/** ValidateStorageClass: a provisioner that is a qualified name, bounded parameters, known policies and binding modes. */
export function validateStorageClass(sc: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const provisioner = typeof sc.provisioner === 'string' ? sc.provisioner : '';
  if (!provisioner) out.push(requiredCause('provisioner'));
  else for (const msg of qualifiedNameErrors(provisioner.toLowerCase())) out.push(invalidCause('provisioner', provisioner, msg));
  const params = Object.entries(asObj(sc.parameters));
  if (params.length > MAX_PARAMETERS) out.push(tooLongCause('parameters', MAX_PARAMETERS));
  else {
    let size = 0;
    for (const [k, v] of params) {
      if (!k) out.push(invalidCause('parameters', k, 'field can not be empty.'));
      size += k.length + String(v).length;
    }
    if (size > MAX_PARAMETERS_SIZE) out.push(tooLongCause('parameters', MAX_PARAMETERS_SIZE));
  }
  if (given(sc.reclaimPolicy) && sc.reclaimPolicy !== '' && !CLASS_RECLAIM_POLICIES.includes(String(sc.reclaimPolicy)))
    out.push(notSupportedCause('reclaimPolicy', sc.reclaimPolicy, CLASS_RECLAIM_POLICIES));
  if (!given(sc.volumeBindingMode)) out.push(requiredCause('volumeBindingMode'));
  else if (!BINDING_MODES.includes(String(sc.volumeBindingMode))) out.push(notSupportedCause('volumeBindingMode', sc.volumeBindingMode, BINDING_MODES));
  return out;
}

const tooLongCause = (field: string, max: number): StatusCause => ({
  reason: 'FieldValueTooLong',
  message: `Too long: may not be more than ${max} bytes`,
  field,
});
const immutableCause = (field: string, value: unknown): StatusCause => invalidCause(field, given(value) ? value : 'null', 'field is immutable');

/** ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and volumeBindingMode stay as created. */
export function validateStorageClassUpdate(sc: KubeObject, old: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  if (!jsonEqual(asObj(sc.parameters), asObj(old.parameters))) out.push(forbiddenCause('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) out.push(forbiddenCause('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) out.push(forbiddenCause('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (sc.volumeBindingMode !== old.volumeBindingMode) out.push(immutableCause('volumeBindingMode', sc.volumeBindingMode));
  return out;
}

/**
 * What changed between two specs, one `-`/`+` pair per field: where upstream appends go-cmp's Diff to an immutability
 * error (whose text go-cmp itself keeps deliberately unstable), this names the fields.
 */
function specDiff(before: JsonObject, after: JsonObject): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => !jsonEqual(before[k] ?? null, after[k] ?? null))
    .flatMap((k) => [
      ...(given(before[k]) ? [`- ${k}: ${JSON.stringify(before[k])}`] : []),
      ...(given(after[k]) ? [`+ ${k}: ${JSON.stringify(after[k])}`] : []),
    ])
    .join('\n');
}

/** A spec without the keys whose value is absent, so `undefined` and missing compare equal. */
const present = (spec: JsonObject): JsonObject => Object.fromEntries(Object.entries(spec).filter(([, v]) => given(v)));

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is fixed once created, but for volumeName set once (binding), a class
 * given to a claim that had none, and, for a bound claim, the storage request (never below status.capacity: the
 * expansion admission decides on growth) and volumeAttributesClassName.
 */
export function validateClaimUpdate(pvc: KubeObject, old: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = asObj(pvc.spec);
  const oldSpec = asObj(old.spec);
  const next: JsonObject = { ...spec };
  const prev: JsonObject = { ...oldSpec };
  if (!oldSpec.volumeName) prev.volumeName = spec.volumeName;
  const oldBeta = old.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const newBeta = pvc.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const upgradeFromAnnotation =
    oldBeta !== undefined && !given(oldSpec.storageClassName) && spec.storageClassName === oldBeta && (newBeta === undefined || newBeta === oldBeta);
  if (upgradeFromAnnotation) delete next.storageClassName;
  else {
    if ((newBeta ?? '') !== (oldBeta ?? ''))
      out.push(invalidCause(`metadata.annotations.${BETA_STORAGE_CLASS_ANNOTATION}`, newBeta ?? '', 'field is immutable'));
    if (given(spec.storageClassName) && !given(oldSpec.storageClassName) && (oldBeta === undefined || spec.storageClassName === oldBeta))
      next.storageClassName = oldSpec.storageClassName;
  }
  const bound = asObj(pvc.status).phase === 'Bound';
  if (bound && isPlainObject(asObj(next.resources).requests)) {
    const resources = asObj(next.resources);
    next.resources = { ...resources, requests: { ...asObj(resources.requests), storage: asObj(asObj(oldSpec.resources).requests).storage } };
  }
  if (bound && given(next.volumeAttributesClassName)) next.volumeAttributesClassName = prev.volumeAttributesClassName;
  if (!jsonEqual(present(next), present(prev)))
    out.push(
      forbiddenCause(
        'spec',
        `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(present(prev), present(next))}`,
      ),
    );
  const size = (s: JsonObject) => milliOf(String(asObj(asObj(s.resources).requests).storage ?? '0'));
  const statusSize = milliOf(String(asObj(asObj(old.status).capacity).storage ?? '0'));
  // RecoverVolumeExpansionFailure (on by default): a request may go back down to just above what the volume has.
  if (size(spec) < size(oldSpec) && size(spec) <= statusSize)
    out.push(forbiddenCause('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  if (spec.volumeMode !== oldSpec.volumeMode) out.push(immutableCause('volumeMode', spec.volumeMode));
  if (!jsonEqual(spec.volumeAttributesClassName ?? null, oldSpec.volumeAttributesClassName ?? null))
    out.push(forbiddenCause('spec.volumeAttributesClassName', 'update is forbidden when the VolumeAttributesClass feature gate is disabled'));
  return out;
}

/** ValidatePersistentVolumeUpdate: the volume source and mode are fixed; node affinity may be set once, then is fixed. */
export function validateVolumeUpdate(pv: KubeObject, old: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = asObj(pv.spec);
  const oldSpec = asObj(old.spec);
  const sources = (s: JsonObject) => present(Object.fromEntries(PV_SOURCES.map(([key]) => [key, s[key]])));
  const next = sources(spec);
  const prev = sources(oldSpec);
  // A CSI volume may be given the secret for its expansion later.
  if (isPlainObject(prev.csi) && isPlainObject(next.csi) && !given(prev.csi.controllerExpandSecretRef)) {
    const { controllerExpandSecretRef: _ref, ...csi } = next.csi;
    next.csi = csi;
  }
  if (!jsonEqual(next, prev))
    out.push(forbiddenCause('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n${specDiff(prev, next)}`));
  if (spec.volumeMode !== oldSpec.volumeMode) out.push(immutableCause('volumeMode', spec.volumeMode));
  if (given(oldSpec.nodeAffinity) && !jsonEqual(spec.nodeAffinity ?? null, oldSpec.nodeAffinity))
    out.push(invalidCause('nodeAffinity', spec.nodeAffinity ?? 'null', 'field is immutable, except for updating from beta label to GA'));
  if (!jsonEqual(spec.volumeAttributesClassName ?? null, oldSpec.volumeAttributesClassName ?? null))
    out.push(forbiddenCause('spec.volumeAttributesClassName', 'update is forbidden when the VolumeAttributesClass feature gate is disabled'));
  return out;
}
