import { randomUUID } from 'node:crypto';

/** Tracing identifiers of one ARM request (R3.1–R3.3). */
export interface ArmRequestContext {
  requestId: string;
  correlationId: string;
  clientRequestId?: string;
  apiVersion?: string;
}

type Headers = Record<string, string | string[] | undefined>;
const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
};

export function createRequestContext(headers: Headers): { context: ArmRequestContext; responseHeaders: Record<string, string> } {
  const requestId = randomUUID();
  const correlationId = header(headers, 'x-ms-correlation-request-id') ?? randomUUID();
  const clientRequestId = header(headers, 'x-ms-client-request-id');
  const responseHeaders: Record<string, string> = {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': correlationId,
  };
  if (clientRequestId && header(headers, 'x-ms-return-client-request-id')?.toLowerCase() === 'true') {
    responseHeaders['x-ms-client-request-id'] = clientRequestId;
  }
  return { context: { requestId, correlationId, clientRequestId }, responseHeaders };
}
