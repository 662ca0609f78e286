import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { join, resolve } from 'node:path';
import { SecretBox, secretFileOnce } from '@cerulean/pki';
import type { SigningKey } from './jwt';

const CONTEXT = 'identity/token-signing-key';

export const signingKeyPath = (dataDir: string): string => join(resolve(dataDir), 'secrets', 'token-signing-key.sealed');

/** RFC 7638 thumbprint of the RSA public key: a stable `kid`. */
export function keyThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  return createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
}

function fromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { kid: keyThumbprint(publicKey), privateKey, publicKey };
}

/**
 * The token signing key (RSA 2048): generated once, kept in DATA_DIR/secrets sealed with the master key
 * (0600), so every API process sharing the data folder signs and verifies with the same key. Concurrent
 * first starts race safely: the file appears atomically (link) and the loser reads the winner's.
 */
export function loadSigningKey(dataDir: string, box: SecretBox): SigningKey {
  const sealed = secretFileOnce(signingKeyPath(dataDir), () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return box.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), CONTEXT);
  });
  return fromPem(box.open(sealed, CONTEXT));
}
