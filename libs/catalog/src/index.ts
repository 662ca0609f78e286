export * from './kubernetes-versions';
export * from './locations';
export * from './node-images';
export * from './vm-sizes';
export * from './aks-resource-fields';
export * from './cluster-network';
export * from './response-model';
