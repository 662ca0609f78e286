import { formatLabelSelector, matchesLabels, parseLabelSelector, selectorFromObject } from './label-selector';
import { matchesFields, parseFieldSelector } from './field-selector';
import { KubeError } from './status';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', env: 'prod' };
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web,api)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['missing', false],
    ['!missing', true],
    ['app=web,tier in (front),!missing', true],
    ['app=web,env=dev', false],
    ['missing!=x', true],
  ])('%s matches: %s', (sel, expected) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(expected);
  });

  it('rejects malformed requirements with 400', () => {
    expect(() => parseLabelSelector('app=we b')).toThrow(KubeError);
    expect(() => parseLabelSelector('a,,b')).toThrow(KubeError);
  });

  it('reads metav1.LabelSelector objects and prints them as kubectl does', () => {
    const sel = selectorFromObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] });
    expect(formatLabelSelector(sel)).toBe('app=web,tier in (a,b)');
    expect(matchesLabels(sel, { app: 'web', tier: 'b' })).toBe(true);
  });
});

describe('field selectors', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  it('matches the common and kind-specific fields', () => {
    expect(matchesFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Pending', 'Pod'), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.name==q', 'Pod'), pod)).toBe(false);
    expect(matchesFields(parseFieldSelector('spec.nodeName=', 'Pod'), { ...pod, spec: {} })).toBe(true);
  });
  it('refuses fields the kind does not support, with upstream text', () => {
    expect(() => parseFieldSelector('spec.nodeName=x', 'ConfigMap')).toThrow('field label not supported: spec.nodeName');
  });
});
