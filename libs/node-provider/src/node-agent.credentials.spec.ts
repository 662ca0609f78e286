import { randomBytes } from 'node:crypto';
import { NODE_AGENT_TOKEN_PATH, NodeAgentCredentials } from './node-agent.credentials';

describe('NodeAgentCredentials', () => {
  const key = randomBytes(32);
  const sut = new NodeAgentCredentials(key);

  it('gives the same node the same credential, every time and in every worker sharing the key', () => {
    expect(sut.tokenFor('c1', 'aks-np1-1-vmss000000')).toBe(new NodeAgentCredentials(Buffer.from(key)).tokenFor('c1', 'aks-np1-1-vmss000000'));
    expect(sut.tokenFor('c1', 'aks-np1-1-vmss000000')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives another node, the same name in another cluster, or another key a different credential', () => {
    const t = sut.tokenFor('c1', 'n0');
    expect(sut.tokenFor('c1', 'n1')).not.toBe(t);
    expect(sut.tokenFor('c2', 'n0')).not.toBe(t);
    // No ambiguity where the fields meet.
    expect(sut.tokenFor('c1n', '0')).not.toBe(t);
    expect(new NodeAgentCredentials(randomBytes(32)).tokenFor('c1', 'n0')).not.toBe(t);
  });

  it('hands the node its credential as a private file', () => {
    expect(sut.tokenFile('c1', 'n0')).toEqual({ path: NODE_AGENT_TOKEN_PATH, content: `${sut.tokenFor('c1', 'n0')}\n`, mode: 0o600 });
  });

  it('refuses a key of the wrong size', () => {
    expect(() => new NodeAgentCredentials(randomBytes(16))).toThrow(/32 bytes/);
  });
});
