import { createRequestContext } from './request-context';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Headers = Parameters<typeof createRequestContext>[0];

const sdkHeaders = (overrides: Headers = {}): Headers => ({
  'x-ms-correlation-request-id': 'corr-123',
  'x-ms-client-request-id': 'client-456',
  ...overrides,
});

describe('createRequestContext (R3.1–R3.3)', () => {
  const sut = createRequestContext;

  describe('request id', () => {
    it('returns a GUID in x-ms-request-id and in the context', () => {
      const { context, responseHeaders } = sut({});

      expect(responseHeaders['x-ms-request-id']).toMatch(UUID);
      expect(context.requestId).toBe(responseHeaders['x-ms-request-id']);
    });

    it('makes a new request id for every call, even with the same headers', () => {
      const headers = sdkHeaders();

      const ids = new Set(Array.from({ length: 20 }, () => sut(headers).context.requestId));

      expect(ids.size).toBe(20);
    });
  });

  describe('correlation id', () => {
    it('echoes the x-ms-correlation-request-id the client sent', () => {
      const { context, responseHeaders } = sut(sdkHeaders());

      expect(context.correlationId).toBe('corr-123');
      expect(responseHeaders['x-ms-correlation-request-id']).toBe('corr-123');
    });

    it('makes up a GUID when the client sent none and returns it', () => {
      const { context, responseHeaders } = sut({});

      expect(context.correlationId).toMatch(UUID);
      expect(responseHeaders['x-ms-correlation-request-id']).toBe(context.correlationId);
    });

    it('makes up a GUID when the header is empty', () => {
      expect(sut({ 'x-ms-correlation-request-id': '' }).context.correlationId).toMatch(UUID);
    });

    it('makes up a different correlation id from the request id', () => {
      const { context } = sut({});

      expect(context.correlationId).not.toBe(context.requestId);
    });

    it('takes the first value when the header arrives twice', () => {
      expect(sut({ 'x-ms-correlation-request-id': ['first', 'second'] }).context.correlationId).toBe('first');
    });
  });

  describe('client request id', () => {
    it('keeps the client request id in the context for logging', () => {
      expect(sut(sdkHeaders()).context.clientRequestId).toBe('client-456');
    });

    it('does not echo it without x-ms-return-client-request-id', () => {
      expect(sut(sdkHeaders()).responseHeaders).not.toHaveProperty('x-ms-client-request-id');
    });

    it.each(['true', 'True', 'TRUE'])('echoes it when x-ms-return-client-request-id is %s', (flag) => {
      const { responseHeaders } = sut(sdkHeaders({ 'x-ms-return-client-request-id': flag }));

      expect(responseHeaders['x-ms-client-request-id']).toBe('client-456');
    });

    it.each(['false', '', '1', 'yes'])('does not echo it when x-ms-return-client-request-id is %p', (flag) => {
      const { responseHeaders } = sut(sdkHeaders({ 'x-ms-return-client-request-id': flag }));

      expect(responseHeaders).not.toHaveProperty('x-ms-client-request-id');
    });

    it('echoes nothing when asked to but no client request id was sent', () => {
      const { context, responseHeaders } = sut({ 'x-ms-return-client-request-id': 'true' });

      expect(context.clientRequestId).toBeUndefined();
      expect(responseHeaders).not.toHaveProperty('x-ms-client-request-id');
    });

    it('does not assume the client request id is unique', () => {
      const first = sut(sdkHeaders());
      const second = sut(sdkHeaders());

      expect(first.context.clientRequestId).toBe(second.context.clientRequestId);
      expect(first.context.requestId).not.toBe(second.context.requestId);
    });
  });
});
