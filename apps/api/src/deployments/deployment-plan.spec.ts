import { ArmError } from '@cerulean/arm';
import { parseWhatIfResultFormat } from './deployment-plan';

describe('parseWhatIfResultFormat', () => {
  const body = (whatIfSettings: unknown) => ({ properties: { template: {}, whatIfSettings } });

  it('defaults to FullResourcePayloads and reads resultFormat case-insensitively', () => {
    expect(parseWhatIfResultFormat({ properties: { template: {} } })).toBe('FullResourcePayloads');
    expect(parseWhatIfResultFormat(body({}))).toBe('FullResourcePayloads');
    expect(parseWhatIfResultFormat(body({ resultFormat: 'ResourceIdOnly' }))).toBe('ResourceIdOnly');
    expect(parseWhatIfResultFormat(body({ resultFormat: 'fullresourcepayloads' }))).toBe('FullResourcePayloads');
  });

  it('rejects another value with a 400 InvalidRequestContent naming the property', () => {
    let caught: unknown;
    try {
      parseWhatIfResultFormat(body({ resultFormat: 'IdsPlease' }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ArmError);
    expect(caught).toMatchObject({ status: 400, code: 'InvalidRequestContent', target: 'properties.whatIfSettings.resultFormat' });
  });
});
