export * from './authority';
export * from './jwt';
export * from './login-throttle';
export * from './secret-check';
export * from './secret-hash';
export * from './signing-key';
export * from './rbac';
export * from './token-bucket';
