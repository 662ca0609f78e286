import { lroHeaders, lroUrls, Namespaces } from '@cerulean/arm';
import { OperationEntity } from '@cerulean/domain';
import type { FastifyReply } from 'fastify';
import { ArmCall } from './arm-request';

/** Sets Azure-AsyncOperation + Location + Retry-After for an AKS operation (R11.2/R11.3). */
export function setOperationHeaders(reply: FastifyReply, call: ArmCall, op: OperationEntity, retryAfterSeconds: number): void {
  const urls = lroUrls(call.baseUrl, op.subscriptionId, Namespaces.ContainerService, op.location, op.id, call.apiVersion);
  reply.headers(lroHeaders(urls, retryAfterSeconds));
}
