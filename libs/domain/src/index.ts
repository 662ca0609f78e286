export * from './cluster-credential.repository';
export * from './data-source';
export * from './database.module';
export * from './entities';
export * from './enums';
export * from './operation.repository';
export * from './stored-error';
export * from './upgrade-settings';
