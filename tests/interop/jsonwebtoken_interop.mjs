// Interop with the npm package jsonwebtoken (pinned in package-lock.json), both directions, for
// every algorithm it implements (HS*, RS*, PS*, ES256/384/512):
//   tegata keygen + sign -> jsonwebtoken verifies (key from tegata's PEM, and from `tegata jwks`);
//   Node-generated keys, jsonwebtoken signs -> `tegata verify` with SPKI PEM and with a JWKS;
//   traditional PEM (PKCS#1 RSA, SEC1 EC) private keys -> `tegata sign` -> jsonwebtoken verifies.
// Tampered tokens must be rejected on both sides.
//
// usage: node jsonwebtoken_interop.mjs --tegata PATH [--algs HS256,...]
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  CLAIMS, ECDSA, HMAC, NOW, RSA, check, finish, same, setup, step, tamper, tegataJwks,
  tegataKeygen, tegataSign, tegataVerify, write,
} from './lib.mjs';

const ctx = setup('jsonwebtoken');
const jwt = (await import('jsonwebtoken')).default;

const ALGS = ctx.only([...HMAC, ...RSA, ...ECDSA]);
const CURVES = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const SECRET_BYTES = { HS256: 32, HS384: 48, HS512: 64 };

function jwtVerify(token, key, alg) {
  try {
    return jwt.verify(token, key, {
      algorithms: [alg], issuer: CLAIMS.iss, audience: CLAIMS.aud, clockTimestamp: NOW,
    });
  } catch {
    return null;
  }
}

function nodeKeys(alg) {
  if (alg.startsWith('HS')) {
    const secret = randomBytes(SECRET_BYTES[alg]);
    return { sign: secret, verify: secret, jwk: { kty: 'oct', k: secret.toString('base64url') } };
  }
  const { privateKey, publicKey } = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: CURVES[alg] })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    sign: privateKey,
    verify: publicKey,
    jwk: publicKey.export({ format: 'jwk' }),
    spki: publicKey.export({ format: 'pem', type: 'spki' }),
    // The "traditional" encodings: PKCS#1 for RSA, SEC1 for EC.
    traditional: privateKey.export({ format: 'pem', type: CURVES[alg] ? 'sec1' : 'pkcs1' }),
  };
}

for (const alg of ALGS) {
  const hmac = alg.startsWith('HS');

  await step(`${alg}: tegata signs, jsonwebtoken verifies`, async () => {
    const keyFile = tegataKeygen(ctx, alg, `${alg}.key`);
    const token = tegataSign(ctx, alg, keyFile);
    const keys = [];
    if (hmac) {
      keys.push(['secret', readFileSync(keyFile)]);
    } else {
      const published = tegataJwks(ctx, [keyFile], ['--alg', alg]).keys[0];
      keys.push(['PEM', createPublicKey(createPrivateKey(readFileSync(keyFile)))]);
      keys.push(['tegata jwks', createPublicKey({ key: published, format: 'jwk' })]);
    }
    for (const [how, key] of keys) {
      check(same(jwtVerify(token, key, alg), CLAIMS),
        `${alg} jsonwebtoken accepts tegata's token (${how})`);
      check(jwtVerify(tamper(token), key, alg) === null,
        `${alg} jsonwebtoken rejects a tampered tegata token (${how})`);
    }
  });

  await step(`${alg}: jsonwebtoken signs, tegata verifies`, async () => {
    const keys = nodeKeys(alg);
    const token = jwt.sign(CLAIMS, keys.sign, { algorithm: alg, keyid: 'k-jwt' });
    const keyFile = hmac
      ? write(ctx, `jwt-${alg}.secret`, keys.sign)
      : write(ctx, `jwt-${alg}.spki.pem`, keys.spki);
    const jwks = { keys: [{ ...keys.jwk, kid: 'k-jwt' }] };
    const jwksFile = write(ctx, `jwt-${alg}.jwks.json`, JSON.stringify(jwks));
    for (const [how, keyArgs] of [['key file', ['--key', keyFile]], ['JWKS', ['--jwks', jwksFile]]]) {
      const ok = tegataVerify(ctx, alg, keyArgs, token);
      check(ok.ok && same(ok.claims, CLAIMS), `${alg} tegata accepts jsonwebtoken's token (${how})`,
        JSON.stringify(ok));
      const bad = tegataVerify(ctx, alg, keyArgs, tamper(token));
      check(bad.verdict === 'fail bad_signature',
        `${alg} tegata rejects a tampered jsonwebtoken token (${how})`, JSON.stringify(bad));
    }
  });

  if (!hmac) {
    await step(`${alg}: tegata signs with a traditional PEM key, jsonwebtoken verifies`, async () => {
      const keys = nodeKeys(alg);
      const keyFile = write(ctx, `jwt-${alg}.traditional.pem`, keys.traditional);
      const token = tegataSign(ctx, alg, keyFile);
      check(same(jwtVerify(token, keys.verify, alg), CLAIMS),
        `${alg} jsonwebtoken accepts tegata's token`);
    });
  }
}

finish();
