import { generateSecret, hashSecret, secretHint, verifySecret } from './secret-hash';

describe('client secret hashing', () => {
  it('verifies the secret it hashed and nothing else', async () => {
    const secret = generateSecret();
    const stored = await hashSecret(secret);
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain(secret);
    await expect(verifySecret(secret, stored)).resolves.toBe(true);
    await expect(verifySecret(`${secret}x`, stored)).resolves.toBe(false);
    await expect(verifySecret('', stored)).resolves.toBe(false);
  });

  it('salts: the same secret hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashSecret('same'), hashSecret('same')]);
    expect(a).not.toBe(b);
  });

  it('never matches a malformed stored value', async () => {
    for (const bad of ['', 'plain', 'scrypt$1$2$3$x', 'bcrypt$16384$8$1$AAAA$AAAA', 'scrypt$16384$8$1$AAAA$AAAA']) {
      await expect(verifySecret('x', bad)).resolves.toBe(false);
    }
  });

  it('generates 40-character secrets with a 3-character hint', () => {
    const s = generateSecret();
    expect(s).toHaveLength(40);
    expect(secretHint(s)).toBe(s.slice(0, 3));
    expect(generateSecret()).not.toBe(s);
    for (let i = 0; i < 500; i++) expect(generateSecret()).toMatch(/^[A-Za-z0-9][A-Za-z0-9~._-]{39}$/);
  });
});
