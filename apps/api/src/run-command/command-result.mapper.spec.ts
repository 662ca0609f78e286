import { CommandResultEntity, CommandState, OperationEntity, OperationStatus } from '@cerulean/domain';
import { commandOutcome, parseCommandId, toCommandId, toRunCommandResult } from './command-result.mapper';

const ID = '0e9872e6-6293-49dc-865e-27ee6f8bab2d';

const row = (over: Partial<CommandResultEntity> = {}): CommandResultEntity =>
  Object.assign(new CommandResultEntity(), {
    id: ID,
    clusterId: 'c',
    command: 'echo hi',
    hasContext: false,
    context: null,
    state: CommandState.Pending,
    nodeName: null,
    exitCode: null,
    logs: '',
    startedAt: null,
    finishedAt: null,
    reason: null,
    createdBy: null,
    createdAt: new Date(),
    ...over,
  });

const op = (status: OperationStatus, over: Partial<OperationEntity> = {}): OperationEntity =>
  Object.assign(new OperationEntity(), { id: ID, status, endTime: null, error: null, ...over });

describe('command ids', () => {
  it('are the uuid without hyphens, like AKS command ids', () => {
    expect(toCommandId(ID)).toBe('0e9872e6629349dc865e27ee6f8bab2d');
  });

  it('parse from either spelling, in any case', () => {
    expect(parseCommandId('0E9872E6629349DC865E27EE6F8BAB2D')).toBe(ID);
    expect(parseCommandId(ID)).toBe(ID);
  });

  it.each(['nope', '0e9872e6629349dc865e27ee6f8bab2', '0e9872e6-629349dc865e27ee6f8bab2d', ''])('reject %p', (id) => {
    expect(parseCommandId(id)).toBeUndefined();
  });
});

describe('commandOutcome', () => {
  it('is undefined while the command runs', () => {
    expect(commandOutcome(row({ state: CommandState.Running }), op(OperationStatus.InProgress))).toBeUndefined();
  });

  it('is the row once the worker settled it', () => {
    const settled = row({ state: CommandState.Succeeded, exitCode: 3 });
    expect(commandOutcome(settled, op(OperationStatus.Succeeded))).toBe(settled);
  });

  it("reads an operation that ended without the row (retries exhausted, canceled) as a failed command with the operation's error", () => {
    const end = new Date('2026-01-02T03:04:05Z');
    const sut = commandOutcome(row(), op(OperationStatus.Failed, { endTime: end, error: { code: 'InternalServerError', message: 'boom' } }));
    expect(sut).toMatchObject({ state: CommandState.Failed, reason: 'boom', finishedAt: end });
  });
});

describe('toRunCommandResult', () => {
  it("has the AKS example's shape, with a lower-case provisioningState", () => {
    const sut = toRunCommandResult(
      row({
        state: CommandState.Succeeded,
        exitCode: 0,
        logs: 'namespace dummy created',
        startedAt: new Date('2021-02-17T00:28:20Z'),
        finishedAt: new Date('2021-02-17T00:28:33Z'),
      }),
    );
    expect(sut).toEqual({
      id: '0e9872e6629349dc865e27ee6f8bab2d',
      properties: {
        provisioningState: 'Succeeded',
        exitCode: 0,
        startedAt: '2021-02-17T00:28:20.000Z',
        finishedAt: '2021-02-17T00:28:33.000Z',
        logs: 'namespace dummy created',
      },
    });
  });

  it('gives the reason of a failed command and leaves out what it does not have', () => {
    const sut = toRunCommandResult(row({ state: CommandState.Failed, reason: 'timed out', finishedAt: new Date(0) }));
    expect(sut.properties).toEqual({ provisioningState: 'Failed', finishedAt: '1970-01-01T00:00:00.000Z', logs: '', reason: 'timed out' });
  });
});
