export * from './certificates';
export * from './cluster-credentials';
export * from './secret-box';
