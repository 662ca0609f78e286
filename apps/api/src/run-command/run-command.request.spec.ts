import { catchArmError } from '../../../../test-support/catch-arm-error';
import { MAX_COMMAND_BYTES, validateRunCommandRequest } from './run-command.request';

// The smallest valid zip: an empty archive (end-of-central-directory record only).
const EMPTY_ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);

describe('validateRunCommandRequest', () => {
  it('accepts a command with an empty context, as the AKS example sends it', () => {
    const sut = validateRunCommandRequest({ command: 'kubectl apply -f ns.yaml', context: '', clusterToken: '' });
    expect(sut).toEqual({ command: 'kubectl apply -f ns.yaml', context: null });
  });

  it('takes a null context (which the DTO lets through as optional) as no context', () => {
    expect(validateRunCommandRequest({ command: 'ls', context: null })).toEqual({ command: 'ls', context: null });
  });

  it('decodes a base64 zip context', () => {
    const sut = validateRunCommandRequest({ command: 'ls', context: EMPTY_ZIP.toString('base64') });
    expect(sut.context?.equals(EMPTY_ZIP)).toBe(true);
  });

  it.each([
    ['an empty command', { command: '' }, 'command'],
    ['a blank command', { command: '  \n\t' }, 'command'],
    ['a command over the size limit', { command: 'x'.repeat(MAX_COMMAND_BYTES + 1) }, 'command'],
    ['a context that is not base64', { command: 'ls', context: 'not base64!' }, 'context'],
    ['a context with broken padding', { command: 'ls', context: 'UEsFBg=' }, 'context'],
    ['a context that is base64 but not a zip', { command: 'ls', context: Buffer.from('hello world').toString('base64') }, 'context'],
  ])('refuses %s with 400 InvalidParameter on the property', (_, body, target) => {
    const err = catchArmError(() => validateRunCommandRequest(body));
    expect(err.status).toBe(400);
    expect(err.code).toBe('InvalidParameter');
    expect(err.target).toBe(target);
  });
});
