export * from './node-provider';
export * from './docker-node.provider';
export * from './node-agent.client';
export * from './node-image.builder';
export * from './output-capture';
export * from './node-agent.credentials';
export * from './node-network.firewall';
export * from './docker-availability';
