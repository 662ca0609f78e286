import { notModified, representationEtag } from '@cerulean/arm';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Conditional reads for pollers (dashboards, scripts): every GET answered 200 with a JSON body and no
 * ETag of its own (lists, operation status, machines, …) gets a weak ETag of its representation, and a
 * request whose If-None-Match matches it gets 304 with no body (headers such as Retry-After are kept).
 * GETs of a cluster or a pool keep their resource ETag (R13.1, the If-Match token), which only changes on
 * writes, so they are not answered 304: their provisioning and power state change without a new ETag.
 * Returns the body to send: `undefined` for a 304.
 */
export function conditionalGet(req: FastifyRequest, reply: FastifyReply, body: unknown): unknown {
  if (req.method !== 'GET' || body === undefined || reply.statusCode !== 200 || reply.hasHeader('etag')) return body;
  const etag = representationEtag(body);
  reply.header('ETag', etag);
  const header = req.headers['if-none-match'];
  if (notModified(Array.isArray(header) ? header.join(',') : header, etag)) {
    reply.status(304);
    return undefined;
  }
  return body;
}
