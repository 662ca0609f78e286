import { KubeError, KubeObject } from '@cerulean/kube';
import { kubeletAddress, kubeletError, kubeletLogQuery, parsePodLogOptions, selectContainer } from './pod-logs';

const statusOf = (fn: () => unknown): { code: number; reason: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeError) return { code: err.code, reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
};

describe('PodLogOptions', () => {
  const parse = (q: string) => parsePodLogOptions(new URLSearchParams(q), 'web');

  it('decodes the query kubectl sends', () => {
    expect(parse('container=app&follow=true&previous=false&timestamps=true&tailLines=10&limitBytes=100&sinceSeconds=60')).toEqual({
      container: 'app',
      follow: true,
      previous: false,
      timestamps: true,
      tailLines: 10,
      limitBytes: 100,
      sinceSeconds: 60,
      sinceTime: undefined,
      insecureSkipTLSVerifyBackend: false,
    });
  });

  it.each([
    ['tailLines=-1', 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0'],
    ['limitBytes=0', 'PodLogOptions "web" is invalid: limitBytes: Invalid value: 0: must be greater than 0'],
    ['sinceSeconds=0', 'PodLogOptions "web" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0'],
    [
      'sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z',
      'PodLogOptions "web" is invalid: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    ],
  ])('refuses %s as upstream (422)', (q, message) => {
    expect(statusOf(() => parse(q))).toEqual({ code: 422, reason: 'Invalid', message });
  });

  it('refuses values that do not decode with a 400', () => {
    expect(statusOf(() => parse('tailLines=ten')).code).toBe(400);
    expect(statusOf(() => parse('follow=maybe')).code).toBe(400);
    expect(statusOf(() => parse('sinceTime=noon')).code).toBe(400);
  });

  it('passes the options on to the kubelet, the time in RFC 3339', () => {
    expect(kubeletLogQuery(parse(''))).toBe('');
    expect(kubeletLogQuery(parse('follow=true&previous=true&timestamps=true&tailLines=0&limitBytes=9&sinceTime=2026-01-01T01:00:00.000%2B01:00'))).toBe(
      '?follow=true&previous=true&timestamps=true&sinceTime=2026-01-01T00%3A00%3A00Z&tailLines=0&limitBytes=9',
    );
  });
});

describe('container selection', () => {
  const pod = (containers: string[], extra: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({
    metadata: { name: 'web', annotations },
    spec: { containers: containers.map((name) => ({ name })), ...extra },
  });

  it('takes the only container, the named one, or the annotated default', () => {
    expect(selectContainer(pod(['app']), undefined)).toBe('app');
    expect(selectContainer(pod(['app', 'side']), 'side')).toBe('side');
    expect(selectContainer(pod(['app', 'side'], { initContainers: [{ name: 'init' }] }), 'init')).toBe('init');
    expect(selectContainer(pod(['app', 'side'], {}, { 'kubectl.kubernetes.io/default-container': 'side' }), undefined)).toBe('side');
  });

  it('asks for a name among several, listing them as upstream', () => {
    expect(statusOf(() => selectContainer(pod(['a', 'b']), undefined))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: 'a container name must be specified for pod web, choose one of: [a b]',
    });
    expect(statusOf(() => selectContainer(pod(['a', 'b'], { initContainers: [{ name: 'i' }] }), undefined)).message).toBe(
      'a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i]',
    );
  });

  it('refuses a container the pod does not have', () => {
    expect(statusOf(() => selectContainer(pod(['a']), 'zz'))).toEqual({ code: 400, reason: 'BadRequest', message: 'container zz is not valid for pod web' });
  });
});

describe('kubelet address and errors', () => {
  it('connects to the InternalIP on the port the Node reports, 10250 without one', () => {
    const node = (status: Record<string, unknown>): KubeObject => ({ metadata: { name: 'n1' }, status });
    expect(
      kubeletAddress(
        node({
          addresses: [
            { type: 'Hostname', address: 'n1' },
            { type: 'InternalIP', address: '172.18.0.3' },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: 10260 } },
        }),
      ),
    ).toEqual({ host: '172.18.0.3', port: 10260 });
    expect(kubeletAddress(node({ addresses: [{ type: 'Hostname', address: 'n1' }] }))).toEqual({ host: 'n1', port: 10250 });
    expect(statusOf(() => kubeletAddress(node({}))).code).toBe(400);
  });

  it("passes the kubelet's 400 text on and names pods/log in generic answers", () => {
    expect(kubeletError(400, 'previous terminated container "a" in pod "web" not found\n', 'web').toStatus()).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'previous terminated container "a" in pod "web" not found',
    });
    expect(kubeletError(404, 'pod "web" does not exist', 'web').toStatus()).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource ( pods/log web)',
    });
    expect(kubeletError(403, 'Forbidden (user=x, verb=get, resource=nodes, subresource=proxy)', 'web').message).toBe(
      'Forbidden (user=x, verb=get, resource=nodes, subresource=proxy) ( pods/log web)',
    );
    expect(kubeletError(502, 'bad', 'web').toStatus()).toMatchObject({ code: 502, reason: 'InternalError' });
  });
});
