// Interop with the npm package jose (pinned in package-lock.json), both directions:
//   tegata keygen + sign      -> jose verifies, with the key published by `tegata jwks`;
//   jose generates and signs  -> `tegata verify` accepts it with jose's SPKI PEM and exported JWKS;
//   jose's private JWK / PKCS#8 PEM -> `tegata sign` -> jose verifies.
// Every direction also checks that a tampered token is rejected, so a verifier that accepts
// anything fails this test. jose 5 is pinned rather than 6: on Node.js it uses node:crypto, which
// runs on Debian 12's Node 18 and implements ES256K and Ed448 too (jose 6 is WebCrypto only).
//
// usage: node jose_interop.mjs --tegata PATH [--algs HS256,...]
import { readFileSync } from 'node:fs';

import {
  CLAIMS, ECDSA, HMAC, NOW, RSA, check, finish, same, setup, step, tamper, tegataJwks,
  tegataKeygen, tegataSign, tegataVerify, write,
} from './lib.mjs';

const ctx = setup('jose');
const jose = await import('jose');

// [algorithm, EdDSA curve]
const CASES = [...ctx.only([...HMAC, ...RSA, ...ECDSA, 'ES256K']).map((alg) => [alg, undefined]),
  ...ctx.only(['EdDSA']).flatMap((alg) => [[alg, 'Ed25519'], [alg, 'Ed448']])];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const options = (alg) => ({
  algorithms: [alg], issuer: CLAIMS.iss, audience: CLAIMS.aud, currentDate: new Date(NOW * 1000),
});

// jose's verdict on a token: its payload, or null when jose rejects it.
async function joseVerify(token, key, alg) {
  try {
    return (await jose.jwtVerify(token, key, options(alg))).payload;
  } catch {
    return null;
  }
}

async function joseKeys(alg, crv) {
  if (alg.startsWith('HS')) {
    const secret = await jose.generateSecret(alg, { extractable: true });
    return { sign: secret, verify: secret, privateJwk: await jose.exportJWK(secret) };
  }
  const pair = await jose.generateKeyPair(alg, { extractable: true, crv });
  return {
    sign: pair.privateKey,
    verify: pair.publicKey,
    privateJwk: await jose.exportJWK(pair.privateKey),
    publicJwk: await jose.exportJWK(pair.publicKey),
    spki: await jose.exportSPKI(pair.publicKey),
    pkcs8: await jose.exportPKCS8(pair.privateKey),
  };
}

for (const [alg, crv] of CASES) {
  const label = crv ? `${alg} (${crv})` : alg;
  const name = crv ?? alg;
  const hmac = alg.startsWith('HS');

  await step(`${label}: tegata signs, jose verifies with the key tegata publishes`, async () => {
    const keyFile = tegataKeygen(ctx, alg, `${name}.key`, crv ? ['--curve', crv] : []);
    const token = tegataSign(ctx, alg, keyFile, ['--kid', 'k-tegata']);
    const header = jose.decodeProtectedHeader(token);
    check(same(header, { alg, kid: 'k-tegata', typ: 'JWT' }), `${label} header`, JSON.stringify(header));
    let key;
    if (hmac) {
      key = new Uint8Array(readFileSync(keyFile));
    } else {
      const jwks = tegataJwks(ctx, [keyFile], ['--kid', 'k-tegata', '--alg', alg]);
      const jwk = jwks.keys?.[0];
      check(jwks.keys?.length === 1 && jwk.kid === 'k-tegata' && jwk.alg === alg,
        `${label} jwks shape`, JSON.stringify(jwks));
      check(PRIVATE_MEMBERS.every((m) => !(m in jwk)), `${label} jwks has no private member`);
      // The default kid is the RFC 7638 thumbprint, computed here by jose.
      const plain = tegataJwks(ctx, [keyFile], ['--alg', alg]).keys[0];
      check(plain.kid === await jose.calculateJwkThumbprint(plain, 'sha256'),
        `${label} default kid is the thumbprint`);
      check(same(await joseVerify(token, await jose.importJWK(jwk, alg), alg), CLAIMS),
        `${label} importJWK + jwtVerify`);
      key = jose.createLocalJWKSet(jwks);
    }
    check(same(await joseVerify(token, key, alg), CLAIMS), `${label} jose accepts tegata's token`);
    check(await joseVerify(tamper(token), key, alg) === null,
      `${label} jose rejects a tampered tegata token`);
  });

  await step(`${label}: jose signs, tegata verifies with jose's key and JWKS`, async () => {
    const keys = await joseKeys(alg, crv);
    const token = await new jose.SignJWT(CLAIMS)
      .setProtectedHeader({ alg, kid: 'k-jose', typ: 'JWT' })
      .sign(keys.sign);
    const keyFile = hmac
      ? write(ctx, `jose-${name}.secret`, Buffer.from(keys.privateJwk.k, 'base64url'))
      : write(ctx, `jose-${name}.spki.pem`, keys.spki);
    const published = hmac ? keys.privateJwk : keys.publicJwk;
    const jwksFile = write(ctx, `jose-${name}.jwks.json`,
      JSON.stringify({ keys: [{ ...published, kid: 'k-jose', alg, use: 'sig' }] }));

    for (const [how, keyArgs] of [['key file', ['--key', keyFile]], ['JWKS', ['--jwks', jwksFile]]]) {
      const ok = tegataVerify(ctx, alg, keyArgs, token);
      check(ok.ok && same(ok.claims, CLAIMS), `${label} tegata accepts jose's token (${how})`,
        JSON.stringify(ok));
      const bad = tegataVerify(ctx, alg, keyArgs, tamper(token));
      check(!bad.ok && bad.verdict === 'fail bad_signature' && bad.status === 1,
        `${label} tegata rejects a tampered jose token (${how})`, JSON.stringify(bad));
    }
    const other = await new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, kid: 'k-other' }).sign(keys.sign);
    const unknown = tegataVerify(ctx, alg, ['--jwks', jwksFile], other);
    check(unknown.verdict === 'fail unknown_key',
      `${label} tegata: a kid missing from the JWKS is unknown_key`, JSON.stringify(unknown));
  });

  await step(`${label}: tegata signs with jose's private key, jose verifies`, async () => {
    const keys = await joseKeys(alg, crv);
    const privateJwk = { ...keys.privateJwk, kid: 'k-jwk' };
    const jwkFile = write(ctx, `jose-${name}.private.jwk`, JSON.stringify(privateJwk));
    const fromJwk = tegataSign(ctx, alg, jwkFile);
    check(jose.decodeProtectedHeader(fromJwk).kid === 'k-jwk', `${label} kid taken from the JWK`);
    check(same(await joseVerify(fromJwk, keys.verify, alg), CLAIMS),
      `${label} jose accepts tegata's token (private JWK)`);
    if (!hmac) {
      const pemFile = write(ctx, `jose-${name}.pkcs8.pem`, keys.pkcs8);
      const fromPem = tegataSign(ctx, alg, pemFile);
      check(same(await joseVerify(fromPem, keys.verify, alg), CLAIMS),
        `${label} jose accepts tegata's token (PKCS#8 PEM)`);
    }
  });
}

finish();
