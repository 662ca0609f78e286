export * from './operation-queue.service';
export * from './operation-starter.service';
export * from './operations-queue';
export * from './queue.module';
export * from './redis-connection';
