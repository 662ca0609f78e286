import { Caller, createdSystemData, modifiedSystemData, SystemData } from './system-data';

const creator = (overrides: Partial<Caller> = {}): Caller => ({ id: 'alice@example.test', type: 'User', ...overrides });
const automation = (): Caller => ({ id: '11111111-2222-3333-4444-555555555555', type: 'Application' });

const CREATED_AT = new Date('2026-11-01T10:00:00.000Z');
const MODIFIED_AT = new Date('2026-11-02T12:30:15.250Z');

describe('createdSystemData (R5.5)', () => {
  const sut = createdSystemData;

  it('sets created and last-modified fields to the same caller and time', () => {
    expect(sut(creator(), CREATED_AT)).toEqual<SystemData>({
      createdBy: 'alice@example.test',
      createdByType: 'User',
      createdAt: '2026-11-01T10:00:00.000Z',
      lastModifiedBy: 'alice@example.test',
      lastModifiedByType: 'User',
      lastModifiedAt: '2026-11-01T10:00:00.000Z',
    });
  });

  it('writes times as ISO-8601 UTC', () => {
    const data = sut(creator(), new Date(Date.UTC(2026, 0, 5, 3, 4, 5)));

    expect(data.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(data.createdAt).toBe('2026-01-05T03:04:05.000Z');
  });

  it.each<Caller['type']>(['User', 'Application', 'ManagedIdentity', 'Key'])('records the identity type %s', (type) => {
    const data = sut(creator({ type }), CREATED_AT);

    expect(data.createdByType).toBe(type);
    expect(data.lastModifiedByType).toBe(type);
  });
});

describe('modifiedSystemData (R5.5)', () => {
  const sut = modifiedSystemData;

  it('keeps the created fields of the previous systemData', () => {
    const previous = createdSystemData(creator(), CREATED_AT);

    const data = sut(previous, automation(), MODIFIED_AT);

    expect(data.createdBy).toBe('alice@example.test');
    expect(data.createdByType).toBe('User');
    expect(data.createdAt).toBe('2026-11-01T10:00:00.000Z');
  });

  it('sets the last-modified fields to the new caller and time', () => {
    const previous = createdSystemData(creator(), CREATED_AT);

    const data = sut(previous, automation(), MODIFIED_AT);

    expect(data.lastModifiedBy).toBe('11111111-2222-3333-4444-555555555555');
    expect(data.lastModifiedByType).toBe('Application');
    expect(data.lastModifiedAt).toBe('2026-11-02T12:30:15.250Z');
  });

  it('does not change the previous object', () => {
    const previous = createdSystemData(creator(), CREATED_AT);
    const snapshot = { ...previous };

    sut(previous, automation(), MODIFIED_AT);

    expect(previous).toEqual(snapshot);
  });
});
