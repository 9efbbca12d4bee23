// Interop with the npm package dpop (panva's RFC 9449 client, pinned in package-lock.json):
// proofs it makes for ES256, Ed25519, RS256 and PS256, with and without an access token and a
// nonce, are accepted by `tegata dpop` with the key's RFC 7638 thumbprint (computed by jose);
// and the attacks of RFC 9449 §11 are refused: a proof for another method or URI, a proof by
// another key (another thumbprint), a stale or future proof, a missing or wrong ath, a proof
// whose jwk carries the private key, alg none or HS256, a proof without jti, a stale nonce.
//
// usage: node dpop_interop.mjs --tegata PATH [--algs ES256,...]
import { webcrypto } from 'node:crypto';

import { check, finish, setup, step, tegata, write } from './lib.mjs';

const ctx = setup('dpop');
globalThis.crypto ??= webcrypto;  // dpop uses WebCrypto, a global only from Node.js 19 on
const DPoP = await import('dpop');
const jose = await import('jose');

const HTU = 'https://api.example/token';
const ALGS = ctx.only(['ES256', 'Ed25519', 'RS256', 'PS256']);

// `tegata dpop` on one proof: { ok, claims } or { ok: false, verdict } ("fail dpop_invalid").
function verify(proof, { method = 'POST', uri = HTU, extra = [] } = {}) {
  const r = tegata(ctx, ['dpop', '--method', method, '--uri', uri, ...extra], `${proof}\n`);
  const line = r.stdout.trim();
  if (r.status === 0 && line.startsWith('ok ')) return { ok: true, claims: JSON.parse(line.slice(3)) };
  return { ok: false, verdict: line || r.stderr.trim() };
}

function refused(result, what, verdict = 'fail dpop_invalid') {
  check(!result.ok && result.verdict.startsWith(verdict), what, JSON.stringify(result));
}

async function keyPair(alg) {
  return DPoP.generateKeyPair(alg, { extractable: true });
}

async function thumbprint(pair) {
  return jose.calculateJwkThumbprint(await jose.exportJWK(pair.publicKey), 'sha256');
}

// A proof signed by jose with any header and payload, for the shapes dpop refuses to make.
async function handMade(pair, alg, header, payload) {
  const jwt = new jose.SignJWT(payload).setProtectedHeader({ alg, typ: 'dpop+jwt', ...header });
  return jwt.sign(pair.privateKey);
}

const now = () => Math.floor(Date.now() / 1000);

for (const alg of ALGS) {
  await step(`${alg}: dpop's proofs are accepted, with the key's thumbprint`, async () => {
    const pair = await keyPair(alg);
    const jkt = await thumbprint(pair);
    const proof = await DPoP.generateProof(pair, HTU, 'POST');
    const result = verify(proof);
    check(result.ok, `${alg} proof accepted`, JSON.stringify(result));
    if (!result.ok) return;
    check(result.claims.jkt === jkt, `${alg} jkt is jose's thumbprint`, `${result.claims.jkt} ${jkt}`);
    const payload = jose.decodeJwt(proof);
    check(result.claims.jti === payload.jti && result.claims.iat === payload.iat, `${alg} jti, iat`);
    check(result.claims.nonce === undefined, `${alg} no nonce`);
    check(verify(await DPoP.generateProof(pair, HTU, 'POST')).claims?.jkt === jkt,
      `${alg} a second proof, same key, same jkt`);
    const other = await keyPair(alg);
    check(verify(await DPoP.generateProof(other, HTU, 'POST')).claims?.jkt !== jkt,
      `${alg} another key has another jkt: a thief's proof cannot match a bound token`);
  });

  await step(`${alg}: the request a proof is for`, async () => {
    const pair = await keyPair(alg);
    const proof = await DPoP.generateProof(pair, HTU, 'POST');
    refused(verify(proof, { method: 'GET' }), `${alg} another method`);
    refused(verify(proof, { uri: 'https://api.example/other' }), `${alg} another path`);
    refused(verify(proof, { uri: 'https://evil.example/token' }), `${alg} another host`);
    check(verify(proof, { uri: 'HTTPS://API.example:443/token?x=1' }).ok,
      `${alg} the same URI in another spelling, with a query`);
    const t = now();
    refused(verify(proof, { extra: ['--now', String(t + 120)] }), `${alg} a stale proof`);
    refused(verify(proof, { extra: ['--now', String(t - 120)] }), `${alg} a proof from the future`);
  });

  await step(`${alg}: ath binds the proof to the access token`, async () => {
    const pair = await keyPair(alg);
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
    const proof = await DPoP.generateProof(pair, HTU, 'GET', undefined, token);
    check(verify(proof, { method: 'GET', extra: ['--access-token', token] }).ok, `${alg} ath`);
    refused(verify(proof, { method: 'GET', extra: ['--access-token', `${token}x`] }),
      `${alg} a proof for another access token`);
    const withoutAth = await DPoP.generateProof(pair, HTU, 'GET');
    refused(verify(withoutAth, { method: 'GET', extra: ['--access-token', token] }),
      `${alg} a proof without ath for a request with an access token`);
  });
}

await step('nonces: use_dpop_nonce names the nonce, and a proof with it is accepted', async () => {
  const secret = write(ctx, 'nonce-secret', Buffer.alloc(32, 7));
  const extra = ['--nonce-secret', secret];
  const pair = await keyPair(ALGS[0] ?? 'ES256');
  const first = verify(await DPoP.generateProof(pair, HTU, 'POST'), { extra });
  refused(first, 'a proof without a nonce', 'fail use_dpop_nonce ');
  const nonce = first.verdict.split(' ')[2];
  check(typeof nonce === 'string' && nonce.length > 0, 'the nonce is given', first.verdict);
  const second = verify(await DPoP.generateProof(pair, HTU, 'POST', nonce), { extra });
  check(second.ok && second.claims.nonce === nonce, 'a proof with the nonce', JSON.stringify(second));
  // With 10-second windows, a nonce is accepted for 10 to 20 seconds: 30 seconds on it is stale
  // while the proof's iat is still well inside the 60-second window.
  const short = [...extra, '--nonce-lifetime', '10'];
  const t = now();
  const shortNonce = verify(await DPoP.generateProof(pair, HTU, 'POST'),
    { extra: [...short, '--now', String(t)] }).verdict.split(' ')[2];
  const stale = await DPoP.generateProof(pair, HTU, 'POST', shortNonce);
  check(verify(stale, { extra: [...short, '--now', String(t)] }).ok, 'the short-lived nonce, in time');
  refused(verify(stale, { extra: [...short, '--now', String(t + 30)] }),
    'the nonce of an old window', 'fail use_dpop_nonce ');
  refused(verify(await DPoP.generateProof(pair, HTU, 'POST', 'made-up'), { extra }),
    'a nonce the server never issued', 'fail use_dpop_nonce ');
});

await step('proofs dpop would never make are refused', async () => {
  const pair = await jose.generateKeyPair('ES256', { extractable: true });
  const publicJwk = await jose.exportJWK(pair.publicKey);
  const privateJwk = await jose.exportJWK(pair.privateKey);
  const claims = { jti: 'j-1', htm: 'POST', htu: HTU, iat: now() };
  check(verify(await handMade(pair, 'ES256', { jwk: publicJwk }, claims)).ok,
    'the hand-made proof itself is accepted');
  refused(verify(await handMade(pair, 'ES256', { jwk: privateJwk }, claims)),
    'a jwk carrying the private key');
  const { jti, ...noJti } = claims;
  check(jti === 'j-1');
  refused(verify(await handMade(pair, 'ES256', { jwk: publicJwk }, noJti)), 'no jti');
  refused(verify(await handMade(pair, 'ES256', { jwk: publicJwk, typ: 'JWT' }, claims)), 'typ JWT');
  const other = await jose.generateKeyPair('ES256', { extractable: true });
  refused(verify(await handMade(other, 'ES256', { jwk: publicJwk }, claims)),
    'signed by another key than the jwk');
  const secret = new Uint8Array(32).fill(9);
  const hs = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: jose.base64url.encode(secret) } })
    .sign(secret);
  refused(verify(hs), 'alg HS256 with the secret as jwk');
  const none = new jose.UnsecuredJWT(claims).encode();
  const noneWithJwk = `${jose.base64url.encode(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk }))}.${none.split('.')[1]}.`;
  refused(verify(noneWithJwk), 'alg none');
  refused(verify(`${noneWithJwk}c2ln`), 'alg none with a signature');
  const twoFields = tegata(ctx, ['dpop', '--method', 'POST', '--uri', HTU], 'a.b.c, d.e.f\n');
  check(twoFields.stdout.trim() === 'fail dpop_invalid', 'two proofs joined into one line');
});

finish();
