#!/usr/bin/python3
"""Interop with PyJWT (Debian python3-jwt, 2.6) and its cryptography backend, both directions.

For every algorithm PyJWT implements (HS*, RS*, PS*, ES256/384/512, ES256K, EdDSA with Ed25519
and Ed448):
  tegata keygen + sign  -> PyJWT verifies, with the key from tegata's PEM and from `tegata jwks`;
  PyJWT signs           -> `tegata verify` accepts, with an SPKI PEM and with a JWKS;
  PyJWT's private keys (PKCS#8 and traditional PEM) -> `tegata sign` -> PyJWT verifies.
Tampered tokens must be rejected on both sides.

PyJWT reads the wall clock and cannot be given another time, so the claims here expire in 2100;
tegata is still given a fixed --now.

usage: pyjwt_interop.py --tegata PATH [--algs HS256,...]
Exit status: 0 pass, 1 fail, 77 (skip) when PyJWT or cryptography is missing, unless
TEGATA_REQUIRE_INTEROP is set.
"""

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import traceback

SKIP = 77
NOW = 1700000000
CLAIMS = {"iss": "https://issuer.example", "sub": "user-42", "aud": "interop", "iat": NOW - 60,
          "exp": 4102444800, "jti": "id-1", "name": "Jos\u00e9 \u2713"}

HMAC = {"HS256": 32, "HS384": 48, "HS512": 64}
RSA = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
# (algorithm, curve label) pairs: EdDSA is run once per curve.
EC_CURVES = {"ES256": "SECP256R1", "ES384": "SECP384R1", "ES512": "SECP521R1",
             "ES256K": "SECP256K1"}
CASES = ([(a, None) for a in HMAC] + [(a, None) for a in RSA] + [(a, None) for a in EC_CURVES]
         + [("EdDSA", "Ed25519"), ("EdDSA", "Ed448")])


def require_interop():
    return os.environ.get("TEGATA_REQUIRE_INTEROP", "").lower() in ("1", "on", "true", "yes")


try:
    import jwt
    from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
except ImportError as error:
    if require_interop():
        print(f"FAIL: PyJWT or cryptography is missing ({error}); TEGATA_REQUIRE_INTEROP is set")
        sys.exit(1)
    print(f"SKIP: PyJWT or cryptography is missing ({error}): apt-get install python3-jwt")
    sys.exit(SKIP)


class Run:
    def __init__(self, tegata, workdir):
        self.tegata = tegata
        self.workdir = workdir
        self.passed = 0
        self.failed = 0

    def check(self, condition, what, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return condition

    def step(self, what, body):
        before = self.failed
        try:
            body()
        except Exception:  # an exception fails the step, it never passes it
            self.check(False, what, "raised " + traceback.format_exc())
        print(("ok   " if self.failed == before else "FAIL ") + what)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def write(self, name, data):
        path = self.path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def run(self, args, stdin=""):
        return subprocess.run([self.tegata] + args, input=stdin, capture_output=True, text=True,
                              check=False)

    def keygen(self, alg, name, *extra):
        path = self.path(name)
        r = self.run(["keygen", "--alg", alg, "--out", path, *extra])
        if r.returncode != 0:
            raise RuntimeError(f"tegata keygen {alg}: {r.stderr.strip()}")
        return path

    def sign(self, alg, key_file):
        r = self.run(["sign", "--alg", alg, "--key", key_file, "--claims", json.dumps(CLAIMS)])
        if r.returncode != 0:
            raise RuntimeError(f"tegata sign {alg}: {r.stderr.strip()}")
        return r.stdout.strip()

    def jwks(self, key_file, alg):
        r = self.run(["jwks", "--key", key_file, "--alg", alg])
        if r.returncode != 0:
            raise RuntimeError(f"tegata jwks {alg}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def verify(self, alg, key_args, token):
        """tegata's verdict line on one token."""
        r = self.run(["verify", "--alg", alg, *key_args, "--now", str(NOW), "--iss", CLAIMS["iss"],
                      "--aud", CLAIMS["aud"]], token + "\n")
        line = r.stdout.strip()
        if r.returncode == 0 and line.startswith("ok "):
            return json.loads(line[3:])
        return line or r.stderr.strip()


def pyjwt_verify(token, key, alg):
    """PyJWT's verdict: the claims, or None when it rejects the token."""
    try:
        return jwt.decode(token, key, algorithms=[alg], audience=CLAIMS["aud"],
                          issuer=CLAIMS["iss"])
    except jwt.PyJWTError:
        return None


def tamper(token):
    i = len(token) - 5
    return token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]


def generate(alg, curve):
    if alg in RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg in EC_CURVES:
        return ec.generate_private_key(getattr(ec, EC_CURVES[alg])())
    return (ed25519.Ed25519PrivateKey if curve == "Ed25519" else ed448.Ed448PrivateKey).generate()


def public_jwk(alg, public_key):
    """The public JWK, exported by PyJWT where its export follows RFC 7518."""
    if alg in RSA:
        return json.loads(RSAAlgorithm.to_jwk(public_key))
    if alg == "EdDSA":
        return json.loads(OKPAlgorithm.to_jwk(public_key))
    # PyJWT 2.6 drops leading zero bytes of EC coordinates (RFC 7518 §6.2.1.2 requires the full
    # width), so its EC export is not used; build the JWK from the numbers instead.
    size = (public_key.curve.key_size + 7) // 8
    numbers = public_key.public_numbers()
    b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()
    crv = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}[alg]
    return {"kty": "EC", "crv": crv, "x": b64(numbers.x), "y": b64(numbers.y)}


def pem(key, private, traditional=False):
    if not private:
        return key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
    fmt = (serialization.PrivateFormat.TraditionalOpenSSL if traditional
           else serialization.PrivateFormat.PKCS8)
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def case(run, alg, curve):
    label = alg + (f" ({curve})" if curve else "")
    hmac = alg in HMAC
    name = label.replace(" ", "").replace("(", "-").replace(")", "")

    def tegata_to_pyjwt():
        key_file = run.keygen(alg, f"{name}.key", *(["--curve", curve] if curve else []))
        token = run.sign(alg, key_file)
        with open(key_file, "rb") as f:
            key_bytes = f.read()
        if hmac:
            keys = [("secret", key_bytes)]
        else:
            private = serialization.load_pem_private_key(key_bytes, password=None)
            jwks = run.jwks(key_file, alg)
            keys = [("PEM", private.public_key()),
                    ("tegata jwks", jwt.PyJWKSet.from_dict(jwks).keys[0].key)]
        for how, key in keys:
            run.check(pyjwt_verify(token, key, alg) == CLAIMS,
                      f"{label} PyJWT accepts tegata's token ({how})")
            run.check(pyjwt_verify(tamper(token), key, alg) is None,
                      f"{label} PyJWT rejects a tampered tegata token ({how})")

    def pyjwt_to_tegata():
        if hmac:
            secret = secrets.token_bytes(HMAC[alg])
            token = jwt.encode(CLAIMS, secret, algorithm=alg, headers={"kid": "k-py"})
            key_file = run.write(f"py-{name}.secret", secret)
            jwk = {"kty": "oct", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
        else:
            private = generate(alg, curve)
            token = jwt.encode(CLAIMS, private, algorithm=alg, headers={"kid": "k-py"})
            key_file = run.write(f"py-{name}.spki.pem", pem(private.public_key(), False))
            jwk = public_jwk(alg, private.public_key())
        jwks = {"keys": [{**jwk, "kid": "k-py"}]}
        jwks_file = run.write(f"py-{name}.jwks.json", json.dumps(jwks))
        for how, key_args in (("key file", ["--key", key_file]), ("JWKS", ["--jwks", jwks_file])):
            verdict = run.verify(alg, key_args, token)
            run.check(verdict == CLAIMS, f"{label} tegata accepts PyJWT's token ({how})",
                      str(verdict))
            verdict = run.verify(alg, key_args, tamper(token))
            run.check(verdict == "fail bad_signature",
                      f"{label} tegata rejects a tampered PyJWT token ({how})", str(verdict))

    def pyjwt_keys_to_tegata():
        private = generate(alg, curve)
        formats = [("PKCS#8", False)]
        if alg in RSA or alg in EC_CURVES:
            formats.append(("traditional", True))
        for how, traditional in formats:
            key_file = run.write(f"py-{name}-{'trad' if traditional else 'pkcs8'}.pem",
                                 pem(private, True, traditional))
            token = run.sign(alg, key_file)
            run.check(pyjwt_verify(token, private.public_key(), alg) == CLAIMS,
                      f"{label} PyJWT accepts tegata's token ({how} PEM from cryptography)")

    run.step(f"{label}: tegata signs, PyJWT verifies", tegata_to_pyjwt)
    run.step(f"{label}: PyJWT signs, tegata verifies", pyjwt_to_tegata)
    if not hmac:
        run.step(f"{label}: tegata signs with cryptography's PEM keys", pyjwt_keys_to_tegata)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tegata", required=True)
    parser.add_argument("--algs", help="comma-separated subset, e.g. HS256,EdDSA")
    args = parser.parse_args()
    only = set(args.algs.split(",")) if args.algs else None
    print(f"PyJWT {jwt.__version__}")
    with tempfile.TemporaryDirectory(prefix="tegata-pyjwt-") as workdir:
        run = Run(args.tegata, workdir)
        for alg, curve in CASES:
            if only is None or alg in only:
                case(run, alg, curve)
    print(f"{run.passed} checks passed, {run.failed} failed")
    return 0 if run.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
