#!/usr/bin/python3
"""Tests of the tegata command-line tool: every subcommand, its exit statuses and its messages.

usage: cli_test.py --tegata PATH [GROUP...]   (no GROUP: all of them; --list: the groups)

Only the Python standard library is used; tokens with hand-made headers and claims are signed
here with hmac, so the checks do not depend on tegata agreeing with itself.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import tempfile
import traceback

NOW = 1700000000
HOUR = 3600
CLAIMS = {"sub": "user-42", "iat": NOW, "exp": NOW + HOUR}
ALL_ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448"]
ASYMMETRIC = ALL_ALGS[3:]
HMAC_SIZES = {"HS256": 32, "HS384": 48, "HS512": 64}
HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

# Test fixtures, not secrets: a 1024-bit RSA key (too short for tegata) and an encrypted EC key.
RSA_1024_PEM = """-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAOgb8uGpE9Gl97HY
mLfs6qDFHyCBvxgQFnXCwLL5BvsOVrhf60FjAE8arNhbUUhWaa8Zhr2s7WElH/6q
Vamf02nOgEnseKDFx8eluaCobPd2Xcw/l2NFNqcUgrHpaHg9ZlyG6Je5Wb29nFIk
dwuQlTMCjASghYVdR8PIEFfbcU1zAgMBAAECgYBGiC+vSRy/qWpyfboysei+gAgs
baDvI/xfPpYmDKyFX98UWfl4Piha4WVCvcUecTvePKiIPONJkOl/Dq3HRM0OFs8s
qqQG5XK50PoiTe89V7iZifS3TFhfTMAVxi7/8A7SwM8OQbLLMByit/MFYkska6R2
j5AI8xF22nqvzusGyQJBAPRhLo+41smT58NoYEUL3uDw8AdFaCZsKopUk+VMhhXj
ijMhlmY3+3rvO5LIZYjEQ/sFjb3FdVq9eL4ooHpqbYUCQQDzJWZIDqHl+A78u/rb
Swv5Syo2+uaAK0YI2EEhpupw2YqXHMU7hGtqcBHES1RSi9S0tFBzNz59rqjt/aSD
dCSXAkEAnPS93vksmpMwS8UB79bL81VMFJ9zYRofyHDB/IfFptFZtbVgz44tKqv0
azXiYJENyG+stbHYycrffeLCD13DsQJAOapaCqblwLvHGiufABlZWqN3/JgeyLD6
qChZshh7K458bwBUypvKOfEgVZSkB/u/06ecGOc2O+qLh/4K4V5POwJBAI6AR/u+
jknIQ/2lfnze5n7gXi6N8lQLEwWK7vEKyTGkn6WJDzqgCF+X8KlNbsVin5CXnbtH
y1Y25n3P3ET7aUw=
-----END PRIVATE KEY-----
"""
ENCRYPTED_EC_PEM = """-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjYWZg3UBtnWQICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEF8wXW4DvDSPadQpnhXjnycEgZCz
/nzUxd3M/j4i4wLMGdvuv+M4G9csCgrKKyqOAQPuoCJw6sH2YIOnChZTtKLtyScq
jksvmHdvNOhA5Ft8vo1dRQW/rqf9YXgVZApTYltqKLaU6oRGMRwtjyhXagSDDPWf
mq4lcc2eZ1nCMMmz92hIrs3cOEi7LCXwy5eppP6YgmWR0J5xzFZ0E/WX7NFGkVc=
-----END ENCRYPTED PRIVATE KEY-----
"""


# --- Helpers -------------------------------------------------------------------------------------

def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hs_token(secret, claims, alg="HS256", header=None):
    """A token signed here, with any header and claims (even ones tegata must refuse)."""
    header = {"alg": alg, "typ": "JWT"} if header is None else header
    head = b64(header if isinstance(header, str) else json.dumps(header))
    body = b64(claims if isinstance(claims, str) else json.dumps(claims))
    digest = HMAC_HASHES.get(alg, hashlib.sha256)
    signature = hmac.new(secret, f"{head}.{body}".encode(), digest).digest()
    return f"{head}.{body}.{b64(signature)}"


def tamper(token):
    """Changes one signature character in the middle, keeping the encoding valid."""
    i = token.rindex(".") + 10
    return token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]


def thumbprint(jwk):
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
                "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[jwk["kty"]]
    canonical = json.dumps({m: jwk[m] for m in required}, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(canonical.encode()).digest())


def pem_to_der(pem):
    """The DER bytes of the first block of a PEM text."""
    lines = pem.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("-----END "))
    return base64.b64decode("".join(lines[start + 1:end]))


def der_to_pem(der, label):
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def p256_public_der(jwk):
    """The SubjectPublicKeyInfo DER of a P-256 public JWK, as `openssl pkey -pubout -outform DER`
    writes it: the fixed header for id-ecPublicKey on prime256v1, then the uncompressed point."""
    header = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
    return header + b"\x04" + unb64(jwk["x"]) + unb64(jwk["y"])


# What `openssl pkcs12 -nodes` writes before each block.
BAG_ATTRIBUTES = ("Bag Attributes\n"
                  "    localKeyID: 8A 5C 10 3E 61 0B 2F 7D 94 C2 5E 01 37 AB 9D 46 F0 12 88 3C\n"
                  "    friendlyName: tegata\n"
                  "Key Attributes: <No Attributes>\n")


class Failed(Exception):
    pass


class Context:
    def __init__(self, tegata, workdir):
        self.tegata = tegata
        self.workdir = workdir
        self.counter = 0

    def path(self, name):
        return os.path.join(self.workdir, name)

    def fresh(self, name):
        """A path that does not exist yet."""
        self.counter += 1
        return self.path(f"{self.counter}-{name}")

    def write(self, name, data):
        path = self.fresh(name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def run(self, *args, stdin="", umask=None):
        def set_umask():
            os.umask(umask)
        r = subprocess.run([self.tegata, *args], input=stdin, capture_output=True, text=True,
                           check=False, preexec_fn=set_umask if umask is not None else None)
        return r

    def expect(self, args, status, stdin="", stderr=None, stdout=None):
        """Runs tegata and checks its status, and that stderr / stdout contain the given texts."""
        r = self.run(*args, stdin=stdin)
        shown = (f"tegata {' '.join(args)}\n  status {r.returncode}\n  stdout {r.stdout!r}\n"
                 f"  stderr {r.stderr!r}")
        check(r.returncode == status, f"expected status {status}: {shown}")
        for text in [stderr] if isinstance(stderr, str) else (stderr or []):
            check(text in r.stderr, f"expected {text!r} on stderr: {shown}")
        for text in [stdout] if isinstance(stdout, str) else (stdout or []):
            check(text in r.stdout, f"expected {text!r} on stdout: {shown}")
        if status != 0 and r.stderr:
            # One sentence on one line, naming the command.
            check(r.stderr.count("\n") == 1 and r.stderr.startswith("tegata"),
                  f"expected a one-line message: {shown}")
        return r

    def keygen(self, alg, *extra):
        path = self.fresh(f"{alg}.key")
        self.expect(["keygen", "--alg", alg, "--out", path, *extra], 0)
        return path

    def sign(self, alg, key, claims=None, *extra):
        r = self.expect(["sign", "--alg", alg, "--key", key, "--claims",
                         json.dumps(CLAIMS if claims is None else claims), *extra], 0)
        token = r.stdout.strip()
        check(r.stdout == token + "\n" and token.count(".") == 2, f"one compact JWS: {r.stdout!r}")
        return token

    def verify(self, alg, key_args, tokens, *extra, status=None):
        """tegata verify on tokens at NOW: (exit status, output lines)."""
        r = self.run("verify", "--alg", alg, *key_args, "--now", str(NOW), *extra,
                     stdin="".join(t + "\n" for t in tokens))
        lines = r.stdout.splitlines()
        check(len(lines) == len(tokens), f"one line per token: {r.stdout!r} {r.stderr!r}")
        if status is not None:
            check(r.returncode == status, f"status {r.returncode}, expected {status}: {r.stdout!r}")
        return r.returncode, lines

    def jwks(self, *args):
        r = self.expect(["jwks", *args], 0)
        return json.loads(r.stdout)


def check(condition, message):
    if not condition:
        raise Failed(message)


def check_verdict(line, expected):
    if isinstance(expected, dict):
        check(line.startswith("ok ") and json.loads(line[3:]) == expected,
              f"expected ok {expected}, got {line!r}")
    else:
        check(line == expected, f"expected {expected!r}, got {line!r}")


GROUPS = {}


def test(group):
    def register(fn):
        GROUPS.setdefault(group, []).append(fn)
        return fn
    return register


# --- usage ---------------------------------------------------------------------------------------

@test("usage")
def top_level_help(t):
    r = t.expect(["--help"], 0, stdout=["usage: tegata <command>", "sign", "verify", "inspect",
                                        "jwks", "keygen", "dpop", "exit status"])
    check(r.stderr == "", "help goes to stdout")
    t.expect([], 2, stderr="no command given")
    t.expect(["--version"], 0, stdout="tegata ")


@test("usage")
def subcommand_help(t):
    for command in ["sign", "verify", "inspect", "jwks", "keygen", "dpop"]:
        t.expect([command, "--help"], 0, stdout=f"usage: tegata {command}")
        t.expect([command, "-h"], 0, stdout=f"usage: tegata {command}")


@test("usage")
def unknown_command_and_options(t):
    t.expect(["frobnicate"], 2, stderr="unknown command 'frobnicate'")
    t.expect(["sign", "--alg", "HS256", "--frob", "x"], 2, stderr="unknown option '--frob'")
    t.expect(["verify", "--alg", "HS256", "stray"], 2, stderr="unexpected argument 'stray'")
    t.expect(["sign", "--alg"], 2, stderr="--alg needs a value")
    t.expect(["sign", "--alg", "HS256", "--alg", "HS384"], 2, stderr="more than once")
    t.expect(["verify", "--alg=HS256", "--jws=yes"], 2, stderr="--jws takes no value")


@test("usage")
def required_options(t):
    key = t.keygen("HS256")
    t.expect(["sign", "--key", key, "--claims", "{}"], 2, stderr="option --alg is required")
    t.expect(["sign", "--alg", "HS256", "--claims", "{}"], 2, stderr="option --key is required")
    t.expect(["sign", "--alg", "HS256", "--key", key], 2, stderr="option --claims is required")
    t.expect(["keygen", "--alg", "HS256"], 2, stderr="option --out is required")
    t.expect(["verify", "--alg", "HS256"], 2, stderr="exactly one of --key and --jwks")


@test("usage")
def unknown_algorithm(t):
    key = t.keygen("HS256")
    for name in ["HS999", "none", "hs256", ""]:
        t.expect(["sign", "--alg", name, "--key", key, "--claims", "{}"], 2,
                 stderr="unknown algorithm")
        t.expect(["verify", "--alg", name, "--key", key], 2, stderr="unknown algorithm")
    t.expect(["keygen", "--alg", "none", "--out", t.fresh("k")], 2, stderr="unknown algorithm")


# --- keygen --------------------------------------------------------------------------------------

@test("keygen")
def hmac_secret_sizes_and_mode(t):
    for alg, size in HMAC_SIZES.items():
        path = t.fresh(alg)
        # Even with a permissive umask the file must be created 0600.
        r = t.run("keygen", "--alg", alg, "--out", path, umask=0)
        check(r.returncode == 0 and r.stdout == "" and r.stderr == "", f"keygen {alg}: {r}")
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, f"{alg} mode 0600")
        check(os.path.getsize(path) == size, f"{alg} secret has {size} bytes")
    a, b = t.keygen("HS256"), t.keygen("HS256")
    check(open(a, "rb").read() != open(b, "rb").read(), "two secrets differ")


@test("keygen")
def asymmetric_keys_are_pkcs8_pem(t):
    for alg in ASYMMETRIC:
        path = t.fresh(alg)
        r = t.run("keygen", "--alg", alg, "--out", path, umask=0)
        check(r.returncode == 0, f"keygen {alg}: {r.stderr}")
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, f"{alg} mode 0600")
        text = open(path).read()
        check(text.startswith("-----BEGIN PRIVATE KEY-----\n") and
              text.endswith("-----END PRIVATE KEY-----\n"), f"{alg} PKCS#8 PEM")


@test("keygen")
def refuses_to_overwrite(t):
    path = t.write("existing", b"precious")
    t.expect(["keygen", "--alg", "HS256", "--out", path], 2, stderr="already exists")
    check(open(path, "rb").read() == b"precious", "existing file untouched")
    link = t.fresh("link")
    target = t.fresh("target")
    os.symlink(target, link)
    t.expect(["keygen", "--alg", "HS256", "--out", link], 2, stderr="already exists")
    check(not os.path.exists(target), "no file created through a symlink")
    t.expect(["keygen", "--alg", "HS256", "--out", t.path("no/such/dir/key")], 2,
             stderr="cannot create")


@test("keygen")
def options(t):
    t.expect(["keygen", "--alg", "RS256", "--bits", "1024", "--out", t.fresh("k")], 2,
             stderr="2048")
    t.expect(["keygen", "--alg", "ES256", "--bits", "3072", "--out", t.fresh("k")], 2,
             stderr="--bits is only for")
    t.expect(["keygen", "--alg", "EdDSA", "--curve", "X25519", "--out", t.fresh("k")], 2,
             stderr="Ed25519 or Ed448")
    t.expect(["keygen", "--alg", "ES256", "--curve", "Ed448", "--out", t.fresh("k")], 2,
             stderr="--curve is only for")
    rsa3072 = t.keygen("PS256", "--bits", "3072")
    jwk = t.jwks("--key", rsa3072, "--alg", "PS256")["keys"][0]
    check(len(unb64(jwk["n"])) == 384, "a 3072-bit modulus")
    ed448 = t.keygen("EdDSA", "--curve", "Ed448")
    check(t.jwks("--key", ed448)["keys"][0]["crv"] == "Ed448", "an Ed448 key")


# --- sign ----------------------------------------------------------------------------------------

@test("sign")
def header_and_claims(t):
    key = t.keygen("HS256")
    token = t.sign("HS256", key)
    head, body, _ = token.split(".")
    check(json.loads(unb64(head)) == {"alg": "HS256", "typ": "JWT"}, f"header {unb64(head)}")
    check(json.loads(unb64(body)) == CLAIMS, "claims as given")
    token = t.sign("HS256", key, CLAIMS, "--kid", "key-1", "--typ", "at+jwt")
    check(json.loads(unb64(token.split(".")[0])) ==
          {"alg": "HS256", "kid": "key-1", "typ": "at+jwt"}, "kid and typ")
    token = t.sign("HS256", key, CLAIMS, "--typ", "")
    check(json.loads(unb64(token.split(".")[0])) == {"alg": "HS256"}, "--typ '' omits typ")


@test("sign")
def signature_is_hmac_of_the_secret(t):
    for alg in HMAC_SIZES:
        key = t.keygen(alg)
        token = t.sign(alg, key)
        head, body, signature = token.split(".")
        secret = open(key, "rb").read()
        expected = hmac.new(secret, f"{head}.{body}".encode(), HMAC_HASHES[alg]).digest()
        check(unb64(signature) == expected, f"{alg} signature")


@test("sign")
def bad_claims(t):
    key = t.keygen("HS256")
    for claims, reason in [("{", "bad_json"), ("[1,2]", "bad_json"), ('"x"', "bad_json"),
                           ('{"a":1,"a":2}', "duplicate_member"), ("", "bad_json"),
                           ('{"a":1} {}', "bad_json")]:
        t.expect(["sign", "--alg", "HS256", "--key", key, "--claims", claims], 2,
                 stderr=["--claims is not a valid JSON object", reason])


@test("sign")
def bad_key_files(t):
    missing = t.path("missing.key")
    t.expect(["sign", "--alg", "HS256", "--key", missing, "--claims", "{}"], 2,
             stderr=f"cannot read '{missing}': No such file or directory")
    t.expect(["sign", "--alg", "HS256", "--key", t.workdir, "--claims", "{}"], 2,
             stderr="cannot read")
    short = t.write("short", b"x" * 31)
    t.expect(["sign", "--alg", "HS256", "--key", short, "--claims", "{}"], 2,
             stderr="shorter than the hash")
    t.expect(["sign", "--alg", "HS512", "--key", t.keygen("HS256"), "--claims", "{}"], 2,
             stderr="shorter than the hash")
    t.expect(["sign", "--alg", "HS256", "--key", t.write("empty", b""), "--claims", "{}"], 2,
             stderr="is empty")
    rsa = t.keygen("RS256")
    # A PEM file is never used as an HMAC secret (the classic algorithm-confusion attack).
    t.expect(["sign", "--alg", "HS256", "--key", rsa, "--claims", "{}"], 2,
             stderr="is a PEM file")
    t.expect(["sign", "--alg", "ES256", "--key", rsa, "--claims", "{}"], 2,
             stderr="holds an RSA key, which cannot be used for ES256")
    t.expect(["sign", "--alg", "ES384", "--key", t.keygen("ES256"), "--claims", "{}"], 2,
             stderr="cannot be used")
    t.expect(["sign", "--alg", "RS256", "--key", t.write("weak.pem", RSA_1024_PEM),
              "--claims", "{}"], 2, stderr="at least 2048 bits")
    t.expect(["sign", "--alg", "ES256", "--key", t.write("enc.pem", ENCRYPTED_EC_PEM),
              "--claims", "{}"], 2, stderr="encrypted")
    t.expect(["sign", "--alg", "RS256", "--key", t.write("junk", b"\x01\x02junk"),
              "--claims", "{}"], 2, stderr="is not a PEM, DER or JWK key file")


@test("sign")
def messages_never_show_key_material(t):
    secret = b"s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123"[:31]
    r = t.run("sign", "--alg", "HS256", "--key", t.write("short", secret), "--claims", "{}")
    check(r.returncode == 2 and secret.decode() not in r.stderr, f"no secret in {r.stderr!r}")
    pem = open(t.keygen("ES256")).read()
    body = pem.splitlines()[1]
    r = t.run("sign", "--alg", "RS256", "--key", t.write("ec.pem", pem), "--claims", "{}")
    check(r.returncode == 2 and body not in r.stderr, f"no key in {r.stderr!r}")


# --- verify --------------------------------------------------------------------------------------

@test("verify")
def ok_and_tampered(t):
    key = t.keygen("HS256")
    token = t.sign("HS256", key)
    status, lines = t.verify("HS256", ["--key", key], [token])
    check(status == 0, "all ok: exit 0")
    check_verdict(lines[0], CLAIMS)
    status, lines = t.verify("HS256", ["--key", key], [tamper(token)])
    check(status == 1, "a failure: exit 1")
    check_verdict(lines[0], "fail bad_signature")


@test("verify")
def several_tokens_mixed(t):
    key = t.keygen("HS256")
    secret = open(key, "rb").read()
    good = t.sign("HS256", key)
    expired = hs_token(secret, {**CLAIMS, "exp": NOW})
    tokens = [good, tamper(good), "", "not-a-token", expired, good, "  " + good + " \r"]
    status, lines = t.verify("HS256", ["--key", key], tokens, status=1)
    for line, expected in zip(lines, [CLAIMS, "fail bad_signature", "fail malformed",
                                      "fail malformed", "fail expired", CLAIMS, CLAIMS]):
        check_verdict(line, expected)
    t.verify("HS256", ["--key", key], [good, good, good], status=0)
    t.verify("HS256", ["--key", key], [], status=0)


@test("verify")
def strict_defaults(t):
    key = t.keygen("HS256")
    secret = open(key, "rb").read()
    cases = [
        ({"sub": "a"}, {"alg": "HS256"}, [], "fail missing_claim"),
        ({"sub": "a"}, {"alg": "HS256"}, ["--allow-missing-exp"], {"sub": "a"}),
        ({**CLAIMS, "exp": NOW}, None, [], "fail expired"),
        ({**CLAIMS, "exp": NOW - 10}, None, ["--leeway", "11"], {**CLAIMS, "exp": NOW - 10}),
        ({**CLAIMS, "exp": NOW - 10}, None, ["--leeway", "10"], "fail expired"),
        ({**CLAIMS, "nbf": NOW + 1}, None, [], "fail not_yet_valid"),
        ({**CLAIMS, "iat": NOW + 60}, None, [], "fail issued_in_future"),
        ({**CLAIMS, "exp": "tomorrow"}, None, [], "fail invalid_claim"),
        ({**CLAIMS, "iss": "x"}, None, [], "fail wrong_issuer"),
        ({**CLAIMS, "iss": "x"}, None, ["--iss", "y"], "fail wrong_issuer"),
        ({**CLAIMS, "iss": "x"}, None, ["--iss", "x"], {**CLAIMS, "iss": "x"}),
        (CLAIMS, None, ["--iss", "x"], "fail missing_claim"),
        ({**CLAIMS, "aud": ["a", "b"]}, None, [], "fail wrong_audience"),
        ({**CLAIMS, "aud": ["a", "b"]}, None, ["--aud", "b"], {**CLAIMS, "aud": ["a", "b"]}),
        ({**CLAIMS, "aud": "a"}, None, ["--aud", "c"], "fail wrong_audience"),
        (CLAIMS, {"alg": "HS256", "typ": "at+jwt"}, [], "fail wrong_type"),
        (CLAIMS, {"alg": "HS256", "typ": "at+jwt"}, ["--typ", "at+jwt"], CLAIMS),
        (CLAIMS, {"alg": "HS256", "typ": "application/AT+JWT"}, ["--typ", "at+jwt"], CLAIMS),
        (CLAIMS, {"alg": "HS256", "typ": "JWT"}, ["--typ", "at+jwt"], "fail wrong_type"),
        (CLAIMS, {"alg": "HS256"}, ["--typ", "at+jwt"], "fail wrong_type"),
        (CLAIMS, {"alg": "HS256", "crit": ["b64"], "b64": False}, [], "fail unsupported_critical"),
        (CLAIMS, '{"alg":"HS256","alg":"HS256"}', [], "fail duplicate_member"),
        ('{"exp":1,"exp":2}', None, [], "fail duplicate_member"),
        (CLAIMS, {"alg": "HS384"}, [], "fail unsupported_algorithm"),
        (CLAIMS, {"alg": "none"}, [], "fail unsupported_algorithm"),
        (CLAIMS, {"alg": "nOnE"}, [], "fail unsupported_algorithm"),
    ]
    for claims, header, extra, expected in cases:
        token = hs_token(secret, claims, "HS256", header)
        _, lines = t.verify("HS256", ["--key", key], [token], *extra)
        try:
            check_verdict(lines[0], expected)
        except Failed as e:
            raise Failed(f"{claims} {header} {extra}: {e}")
    unsigned = b64('{"alg":"none"}') + "." + b64(json.dumps(CLAIMS)) + "."
    _, lines = t.verify("HS256", ["--key", key], [unsigned])
    check_verdict(lines[0], "fail malformed")


@test("verify")
def wrong_algorithm_for_the_key(t):
    # Same 64-byte secret, two algorithms: the algorithm given on the command line decides.
    key = t.keygen("HS512")
    token = t.sign("HS512", key)
    _, lines = t.verify("HS256", ["--key", key], [token], status=1)
    check_verdict(lines[0], "fail unsupported_algorithm")


@test("verify")
def jws_mode(t):
    key = t.keygen("HS256")
    secret = open(key, "rb").read()
    payload = b"\x00\x01 not JSON"
    token = hs_token(secret, payload.decode("latin-1"), "HS256", {"alg": "HS256", "typ": "foo"})
    # hs_token encodes str as UTF-8; compute the payload it really signed.
    encoded = token.split(".")[1]
    _, lines = t.verify("HS256", ["--key", key], [token, tamper(token)], "--jws", status=1)
    check_verdict(lines[0], "ok " + encoded)
    check_verdict(lines[1], "fail bad_signature")
    _, lines = t.verify("HS256", ["--key", key], [token], "--jws", "--typ", "bar", status=1)
    check_verdict(lines[0], "fail wrong_type")
    t.verify("HS256", ["--key", key], [token], "--jws", "--typ", "foo", status=0)
    # A JWT that fails claim checks still passes as a JWS.
    expired = hs_token(secret, {"exp": 1})
    t.verify("HS256", ["--key", key], [expired], "--jws", status=0)
    for option in (["--iss", "x"], ["--aud", "x"], ["--leeway", "1"], ["--allow-missing-exp"]):
        t.expect(["verify", "--alg", "HS256", "--key", key, "--jws", *option], 2,
                 stderr="cannot be used with --jws")


@test("verify")
def usage_errors(t):
    key = t.keygen("HS256")
    base = ["verify", "--alg", "HS256", "--key", key]
    t.expect(base + ["--leeway", "301"], 2, stderr="--leeway needs an integer from 0 to 300")
    t.expect(base + ["--leeway", "-1"], 2, stderr="--leeway needs an integer")
    t.expect(base + ["--leeway", "5s"], 2, stderr="--leeway needs an integer")
    t.expect(base + ["--now", "yesterday"], 2, stderr="--now needs an integer")
    t.expect(base + ["--iss", ""], 2, stderr="must not be empty")
    t.expect(base + ["--jwks", key], 2, stderr="exactly one of --key and --jwks")
    t.expect(["verify", "--alg", "HS256", "--key", t.path("missing")], 2, stderr="cannot read")


@test("verify")
def streams_one_verdict_per_line(t):
    # A program can write a token and read its verdict before writing the next one.
    key = t.keygen("HS256")
    token = t.sign("HS256", key)
    p = subprocess.Popen([t.tegata, "verify", "--alg", "HS256", "--key", key, "--now", str(NOW)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for candidate, expected in [(token, CLAIMS), (tamper(token), "fail bad_signature")]:
            p.stdin.write(candidate + "\n")
            p.stdin.flush()
            check_verdict(p.stdout.readline().rstrip("\n"), expected)
    finally:
        p.stdin.close()
        p.wait(timeout=60)
        p.stdout.close()
    check(p.returncode == 1, "exit 1 after a failure")


# --- inspect -------------------------------------------------------------------------------------

@test("inspect")
def shows_unverified_contents(t):
    key = t.keygen("HS256")
    token = t.sign("HS256", key, CLAIMS, "--kid", "k1")
    r = t.expect(["inspect"], 0, stdin=token + "\n" + tamper(token) + "\n",
                 stdout=["token 1 (UNVERIFIED", "token 2 (UNVERIFIED",
                         '"alg":"HS256"', '"kid":"k1"', '"sub":"user-42"',
                         "exp: 2023-11-14T23:13:20Z", "iat: 2023-11-14T22:13:20Z",
                         "signature: 32 bytes (not checked)"])
    check(r.stdout.count("UNVERIFIED") == 2, "each token is labelled")


@test("inspect")
def output_is_ascii(t):
    # Claims are untrusted text: nothing that could drive a terminal may reach it unescaped.
    key = t.keygen("HS256")
    claims = {**CLAIMS, "name": "Jos\u00e9 \u009b2J \u001b[31m"}
    token = hs_token(open(key, "rb").read(), claims)
    for args in (["inspect"], ["verify", "--alg", "HS256", "--key", key, "--now", str(NOW)]):
        r = t.expect(args, 0, stdin=token + "\n")
        check(r.stdout.isascii() and "\x1b" not in r.stdout, f"ASCII only: {r.stdout!r}")
        check("\\u009b" in r.stdout and "\\u001b" in r.stdout, f"escaped: {r.stdout!r}")
    line = t.run("verify", "--alg", "HS256", "--key", key, "--now", str(NOW), stdin=token).stdout
    check_verdict(line.strip(), claims)


@test("inspect")
def undecodable_tokens(t):
    t.expect(["inspect"], 1, stdin="a.b\n", stdout="not a compact JWS")
    t.expect(["inspect"], 1, stdin="@@@.e30.AAAA\n", stdout="header: cannot decode (bad_encoding)")
    # Not JSON, or suspicious JSON: shown escaped, with the reason.
    t.expect(["inspect"], 0, stdin=b64('{"alg":"a","alg":"b"}') + "." + b64("\x01hi") + ".AAAA\n",
             stdout=["header (not a JSON object: duplicate_member)",
                     'claims (not a JSON object: bad_json): "\\u0001hi"'])
    t.expect(["inspect", "--alg", "HS256"], 2, stderr="unknown option")


# --- jwks ----------------------------------------------------------------------------------------

@test("jwks")
def public_members_only(t):
    for alg in ASYMMETRIC:
        key = t.keygen(alg)
        jwks = t.jwks("--key", key, "--alg", alg)
        check(list(jwks) == ["keys"] and len(jwks["keys"]) == 1, f"{alg} one key: {jwks}")
        jwk = jwks["keys"][0]
        check(not PRIVATE_MEMBERS & set(jwk), f"{alg}: no private member in {jwk}")
        check(jwk.get("alg") == alg, f"{alg}: alg member {jwk}")
        check(jwk["kid"] == thumbprint(jwk), f"{alg}: kid is the RFC 7638 thumbprint")
        check({"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}[alg[:2]] == jwk["kty"], "kty")


@test("jwks")
def several_keys_and_kid(t):
    ec, ed = t.keygen("ES256"), t.keygen("EdDSA")
    jwks = t.jwks("--key", ec, ed)  # the algorithm follows from EC and Ed keys
    check([k["kty"] for k in jwks["keys"]] == ["EC", "OKP"], f"two keys in order: {jwks}")
    check([k["alg"] for k in jwks["keys"]] == ["ES256", "EdDSA"], "algorithms inferred")
    check(t.jwks("--key", ec, "--kid", "mine")["keys"][0]["kid"] == "mine", "--kid")
    # The public key of a private key file, and of the matching public JWK, are the same.
    public_only = t.write("pub.json", json.dumps(jwks["keys"][0]))
    check(t.jwks("--key", public_only)["keys"][0] == jwks["keys"][0], "public JWK in, same out")


@test("jwks")
def refusals(t):
    t.expect(["jwks"], 2, stderr="--key")
    t.expect(["jwks", "--key", t.keygen("HS256"), "--alg", "HS256"], 2, stderr="no public form")
    t.expect(["jwks", "--key", t.keygen("RS256")], 2, stderr="--alg")
    t.expect(["jwks", "--key", t.keygen("ES256"), "--alg", "ES384"], 2, stderr="cannot be used")
    t.expect(["jwks", "--key", t.keygen("ES256"), t.keygen("ES256"), "--kid", "same"], 2,
             stderr="--kid")
    t.expect(["jwks", "--key", t.path("missing")], 2, stderr="cannot read")


# --- every algorithm, end to end -----------------------------------------------------------------

@test("roundtrip")
def every_algorithm(t):
    for alg in ALL_ALGS:
        key = t.keygen(alg)
        token = t.sign(alg, key, CLAIMS, "--kid", "k1")
        header = json.loads(unb64(token.split(".")[0]))
        check(header == {"alg": alg, "kid": "k1", "typ": "JWT"}, f"{alg} header {header}")
        _, lines = t.verify(alg, ["--key", key], [token, tamper(token)], status=1)
        check_verdict(lines[0], CLAIMS)
        check_verdict(lines[1], "fail bad_signature")
        if alg in ASYMMETRIC:
            # Verification with the published public key only.
            published = t.jwks("--key", key, "--alg", alg, "--kid", "k1")
            jwks = t.write(f"{alg}.jwks", json.dumps(published))
            _, lines = t.verify(alg, ["--jwks", jwks], [token, tamper(token)], status=1)
            check_verdict(lines[0], CLAIMS)
            check_verdict(lines[1], "fail bad_signature")
            public = t.write(f"{alg}.pub.jwk", json.dumps(published["keys"][0]))
            t.expect(["sign", "--alg", alg, "--key", public, "--claims", "{}"], 2,
                     stderr="holds a public key")
    ed448 = t.keygen("EdDSA", "--curve", "Ed448")
    _, lines = t.verify("EdDSA", ["--key", ed448], [t.sign("EdDSA", ed448)], status=0)
    check_verdict(lines[0], CLAIMS)


@test("roundtrip")
def key_confusion(t):
    rsa, ec, ed = t.keygen("RS256"), t.keygen("ES256"), t.keygen("EdDSA")
    es_token = t.sign("ES256", ec)
    ed_token = t.sign("EdDSA", ed)
    _, lines = t.verify("RS256", ["--key", rsa], [es_token, ed_token], status=1)
    check_verdict(lines[0], "fail unsupported_algorithm")
    check_verdict(lines[1], "fail unsupported_algorithm")
    _, lines = t.verify("ES256", ["--key", ec], [ed_token], status=1)
    check_verdict(lines[0], "fail unsupported_algorithm")
    # An HS256 token whose "secret" is the public key: refused before any token is read.
    public_pem_like = open(rsa, "rb").read()
    forged = hs_token(public_pem_like, CLAIMS)
    t.expect(["verify", "--alg", "HS256", "--key", rsa], 2, stdin=forged + "\n",
             stderr="is a PEM file")
    relabelled = b64('{"alg":"RS256"}') + forged[forged.index("."):]
    _, lines = t.verify("RS256", ["--key", rsa], [relabelled], status=1)
    check_verdict(lines[0], "fail bad_signature")


# --- verify --jwks -------------------------------------------------------------------------------

@test("jwks_verify")
def key_chosen_by_kid(t):
    a, b = t.keygen("ES256"), t.keygen("ES256")
    jwks = {"keys": t.jwks("--key", a, "--kid", "a")["keys"] +
            t.jwks("--key", b, "--kid", "b")["keys"]}
    path = t.write("set.json", json.dumps(jwks))
    token_a = t.sign("ES256", a, CLAIMS, "--kid", "a")
    token_b = t.sign("ES256", b, CLAIMS, "--kid", "b")
    token_c = t.sign("ES256", b, CLAIMS, "--kid", "c")
    token_swapped = t.sign("ES256", a, CLAIMS, "--kid", "b")
    _, lines = t.verify("ES256", ["--jwks", path], [token_a, token_b, token_c, token_swapped],
                        status=1)
    for line, expected in zip(lines, [CLAIMS, CLAIMS, "fail unknown_key", "fail bad_signature"]):
        check_verdict(line, expected)


@test("jwks_verify")
def oct_keys(t):
    secret = os.urandom(32)
    jwks = {"keys": [{"kty": "oct", "kid": "h1", "k": b64(secret)}]}
    path = t.write("oct.json", json.dumps(jwks))
    token = hs_token(secret, CLAIMS, "HS256", {"alg": "HS256", "kid": "h1"})
    _, lines = t.verify("HS256", ["--jwks", path], [token], status=0)
    check_verdict(lines[0], CLAIMS)
    # A private oct JWK also signs.
    key = t.write("oct.jwk", json.dumps(jwks["keys"][0]))
    signed = t.sign("HS256", key)
    check(json.loads(unb64(signed.split(".")[0])).get("kid") == "h1", "kid from the JWK")
    _, lines = t.verify("HS256", ["--jwks", path], [signed], status=0)


@test("jwks_verify")
def refused_key_sets(t):
    ec = t.jwks("--key", t.keygen("ES256"), "--kid", "e")["keys"][0]
    other = t.jwks("--key", t.keygen("ES256"), "--kid", "e")["keys"][0]
    oct_key = {"kty": "oct", "kid": "h", "k": b64(os.urandom(32))}
    cases = [
        ({"keys": [ec, oct_key]}, "ES256"),                        # symmetric and asymmetric
        ({"keys": [ec, other]}, "ES256"),                          # duplicate kid
        ({"keys": [{**ec, "use": "enc"}]}, "ES256"),               # an encryption key
        ({"keys": [{**oct_key, "k": b64(os.urandom(16))}]}, "HS256"),  # weak secret
        ({"keys": [{**ec, "alg": "ES384"}]}, "ES256"),             # alg disagrees
        ({"keys": [{**ec, "x": ec["y"]}]}, "ES256"),               # point not on the curve
        ({"keys": "nope"}, "ES256"),
        ({"kty": "EC"}, "ES256"),
    ]
    for jwks, alg in cases:
        r = t.run("verify", "--alg", alg, "--jwks", t.write("bad.json", json.dumps(jwks)))
        check(r.returncode == 2 and r.stderr.startswith("tegata verify: ") and
              r.stderr.count("\n") == 1, f"{jwks}: status {r.returncode}, {r.stderr!r}")
        check(not any(m in r.stderr for m in ("\"k\"", oct_key["k"], ec["x"])),
              f"no key material in {r.stderr!r}")
    t.expect(["verify", "--alg", "ES256", "--jwks", t.write("j", "{")], 2, stderr="JSON")
    t.expect(["verify", "--alg", "ES256", "--jwks", t.write("one.jwk", json.dumps(ec))], 2,
             stderr="a single JWK, not a JWK Set: use --key")
    t.expect(["verify", "--alg", "ES256", "--jwks", t.write("none.json", '{"keys":[]}')], 2,
             stderr="holds no keys")


@test("jwks_verify")
def public_keys_without_kid(t):
    # A set of one key without kid: the key gets its thumbprint as kid, and a token without kid
    # is verified with it.
    key = t.keygen("EdDSA")
    jwk = t.jwks("--key", key)["keys"][0]
    del jwk["kid"]
    path = t.write("nokid.json", json.dumps({"keys": [jwk]}))
    token = t.sign("EdDSA", key)
    with_kid = t.sign("EdDSA", key, CLAIMS, "--kid", "x")
    _, lines = t.verify("EdDSA", ["--jwks", path], [token, with_kid], status=1)
    check_verdict(lines[0], CLAIMS)
    check_verdict(lines[1], "fail unknown_key")


# --- key files -----------------------------------------------------------------------------------

@test("key_files")
def jwk_sets_for_signing(t):
    # tegata exports no private JWK and the standard library cannot read a PEM's private value,
    # so the EC set here holds public keys (signing is refused); oct keys give the positive path.
    # Private EC/RSA/OKP JWKs are signed with in the jose interop test.
    public = [t.jwks("--key", t.keygen("ES256"), "--kid", kid)["keys"][0] for kid in ("a", "b")]
    public_set = t.write("public.json", json.dumps({"keys": public}))
    t.expect(["sign", "--alg", "ES256", "--key", public_set, "--kid", "a", "--claims", "{}"], 2,
             stderr="holds a public key")
    t.expect(["sign", "--alg", "ES256", "--key", public_set, "--claims", "{}"], 2,
             stderr="holds 2 keys: choose one with --kid")
    t.expect(["sign", "--alg", "ES256", "--key", public_set, "--kid", "c", "--claims", "{}"], 2,
             stderr="has no key with kid 'c'")
    t.expect(["verify", "--alg", "ES256", "--key", public_set], 2, stderr="verify with --jwks")
    secrets = [{"kty": "oct", "kid": k, "k": b64(os.urandom(32))} for k in ("s1", "s2")]
    oct_set = t.write("oct.json", json.dumps({"keys": secrets}))
    token = t.sign("HS256", oct_set, CLAIMS, "--kid", "s2")
    head, body, signature = token.split(".")
    check(json.loads(unb64(head))["kid"] == "s2", "kid of the chosen key")
    expected = hmac.new(unb64(secrets[1]["k"]), f"{head}.{body}".encode(), hashlib.sha256).digest()
    check(unb64(signature) == expected, "signed with the chosen key")
    twice = t.write("twice.json", json.dumps({"keys": [secrets[0], {**secrets[1], "kid": "s1"}]}))
    t.expect(["sign", "--alg", "HS256", "--key", twice, "--kid", "s1", "--claims", "{}"], 2,
             stderr="has several keys with kid 's1'")
    single = t.write("single.jwk", json.dumps(secrets[0]))
    t.expect(["sign", "--alg", "HS256", "--key", single, "--kid", "other", "--claims", "{}"], 2,
             stderr="has the kid 's1', not 'other'")
    t.expect(["sign", "--alg", "HS384", "--key", single, "--claims", "{}"], 2,
             stderr="shorter than the hash")


@test("key_files")
def der_keys(t):
    for alg in ("RS256", "ES384", "EdDSA"):
        pem = open(t.keygen(alg)).read()
        der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
        der_file = t.write(f"{alg}.der", der)
        token = t.sign(alg, der_file)
        _, lines = t.verify(alg, ["--key", der_file], [token], status=0)
        check_verdict(lines[0], CLAIMS)
    t.expect(["sign", "--alg", "ES256", "--key", t.write("bad.der", b"\x30\x03\x02\x01\x01"),
              "--claims", "{}"], 2, stderr="is not a PEM, DER or JWK key file")
    truncated = t.write("bad.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n")
    t.expect(["sign", "--alg", "ES256", "--key", truncated, "--claims", "{}"], 2,
             stderr="holds no readable PEM key")


@test("key_files")
def hmac_secret_that_looks_like_json(t):
    # A raw secret is only taken for a JWK when it is a JSON object naming kty or keys.
    secret = b'{"not":"a key","padding":"0123456789abcdef"}'
    path = t.write("json-secret", secret)
    token = t.sign("HS256", path)
    head, body, signature = token.split(".")
    check(unb64(signature) == hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest(),
          "the file's bytes are the secret")


def refuses_forged_hs256(t, path, message):
    """verify --alg HS256 --key path refuses the key file before reading the token that is
    HMAC'd with the file's exact bytes (which would otherwise be "ok")."""
    with open(path, "rb") as f:
        forged = hs_token(f.read(), CLAIMS)
    r = t.expect(["verify", "--alg", "HS256", "--key", path, "--now", str(NOW)], 2,
                 stdin=forged + "\n", stderr=message)
    check(r.stdout == "", f"no verdict: {r.stdout!r}")


@test("key_files")
def hmac_refuses_der_public_key(t):
    # RFC 8725 §2.1: with a public key file as an HMAC secret, anyone can forge tokens. The file
    # is DER here, which holds no "-----BEGIN" to notice.
    ec = t.keygen("ES256")
    public_der = t.write("ec.pub.der", p256_public_der(t.jwks("--key", ec)["keys"][0]))
    _, lines = t.verify("ES256", ["--key", public_der], [t.sign("ES256", ec)], status=0)
    check_verdict(lines[0], CLAIMS)  # it is a valid public key file
    refuses_forged_hs256(t, public_der, "is a DER key file, but an HS256 key must be")
    # A DER private key file is refused as well (its public half is public).
    private_der = t.write("rsa.der", pem_to_der(open(t.keygen("RS256")).read()))
    refuses_forged_hs256(t, private_der, "is a DER key file, but an HS256 key must be")
    t.expect(["sign", "--alg", "HS256", "--key", private_der, "--claims", "{}"], 2,
             stderr="is a DER key file")


@test("key_files")
def hmac_refuses_pem_after_preamble(t):
    # `openssl pkcs12 -nodes` writes "Bag Attributes" text before each PEM block.
    ec = t.keygen("ES256")
    public_pem = der_to_pem(p256_public_der(t.jwks("--key", ec)["keys"][0]), "PUBLIC KEY")
    for name, text in [("bag.pub.pem", BAG_ATTRIBUTES + public_pem),
                       ("bag.key.pem", BAG_ATTRIBUTES + open(ec).read()),
                       ("crlf.pem", "comment\r\n" + public_pem.replace("\n", "\r\n"))]:
        refuses_forged_hs256(t, t.write(name, text), "is a PEM file, but an HS256 key must be")


@test("key_files")
def hmac_refuses_plain_pem(t):
    for alg in ("RS256", "EdDSA", "ES256"):  # ES256 last: its public key is used below
        key = t.keygen(alg)
        refuses_forged_hs256(t, key, "is a PEM file, but an HS256 key must be")
    public_pem = der_to_pem(p256_public_der(t.jwks("--key", key)["keys"][0]), "PUBLIC KEY")
    refuses_forged_hs256(t, t.write("ec.pub.pem", public_pem),
                         "is a PEM file, but an HS256 key must be")


@test("key_files")
def pem_after_preamble_for_its_algorithm(t):
    ec = t.keygen("ES256")
    token = t.sign("ES256", ec)
    public_pem = der_to_pem(p256_public_der(t.jwks("--key", ec)["keys"][0]), "PUBLIC KEY")
    public = t.write("bag.pub.pem", BAG_ATTRIBUTES + public_pem)
    _, lines = t.verify("ES256", ["--key", public], [token, tamper(token)], status=1)
    check_verdict(lines[0], CLAIMS)
    check_verdict(lines[1], "fail bad_signature")
    rsa = t.write("bag.key.pem", BAG_ATTRIBUTES + open(t.keygen("RS256")).read())
    _, lines = t.verify("RS256", ["--key", rsa], [t.sign("RS256", rsa)], status=0)
    check_verdict(lines[0], CLAIMS)
    check(t.jwks("--key", public)["keys"][0]["crv"] == "P-256", "the key is found without --alg")


@test("key_files")
def random_hmac_secrets(t):
    # Random bytes stay raw secrets, also when they start like a DER SEQUENCE of their length:
    # only a file that parses completely as a DER key is refused.
    secrets = [os.urandom(32) for _ in range(20)]
    secrets += [b"\x30" + bytes([n - 2]) + os.urandom(n - 2) for n in (32, 48, 64)]
    secrets += [b"\x30\x81" + bytes([n - 3]) + os.urandom(n - 3) for n in (130, 200)]
    for secret in secrets:
        path = t.write("secret", secret)
        token = hs_token(secret, CLAIMS)
        _, lines = t.verify("HS256", ["--key", path], [token, tamper(token)], status=1)
        check_verdict(lines[0], CLAIMS)
        check_verdict(lines[1], "fail bad_signature")


# --- RFC 9864: Ed25519 and Ed448 name their curve ---------------------------------------------

@test("rfc9864")
def fully_specified_eddsa(t):
    ed25519, ed448 = t.keygen("Ed25519"), t.keygen("Ed448")
    check(t.jwks("--key", ed448, "--alg", "Ed448")["keys"][0]["crv"] == "Ed448", "Ed448 curve")
    token = t.sign("Ed25519", ed25519)
    check(json.loads(unb64(token.split(".")[0]))["alg"] == "Ed25519", "alg Ed25519 in the header")
    # The same key material under the other name: refused both ways, the curve fixed by the name.
    _, lines = t.verify("EdDSA", ["--key", ed25519], [token], status=1)
    check_verdict(lines[0], "fail unsupported_algorithm")
    _, lines = t.verify("Ed25519", ["--key", ed25519], [t.sign("EdDSA", ed25519)], status=1)
    check_verdict(lines[0], "fail unsupported_algorithm")
    t.expect(["sign", "--alg", "Ed448", "--key", ed25519, "--claims", "{}"], 2,
             stderr="cannot be used for Ed448")
    t.expect(["keygen", "--alg", "Ed25519", "--curve", "Ed448", "--out", t.fresh("k")], 2,
             stderr="--curve is only for EdDSA")


# --- dpop ----------------------------------------------------------------------------------------

def dpop(t, proofs, *extra, status=None):
    """tegata dpop on proofs for POST https://api.example/token at NOW: output lines."""
    r = t.run("dpop", "--method", "POST", "--uri", "https://api.example/token", "--now", str(NOW),
              *extra, stdin="".join(p + "\n" for p in proofs))
    lines = r.stdout.splitlines()
    check(len(lines) == len(proofs), f"one line per proof: {r.stdout!r} {r.stderr!r}")
    if status is not None:
        check(r.returncode == status, f"status {r.returncode}, expected {status}: {r.stdout!r}")
    return lines


@test("dpop")
def dpop_refusals_and_usage(t):
    # An HMAC "proof" with its secret as the jwk: well formed, signed, and refused for its alg.
    secret = b"k" * 32
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": b64(secret)}}
    payload = {"jti": "j1", "htm": "POST", "htu": "https://api.example/token", "iat": NOW}
    hs = hs_token(secret, payload, header=header)
    lines = dpop(t, [hs, "", "not a proof", "a.b.c", hs + "x"], status=1)
    for line in lines:
        check_verdict(line, "fail dpop_invalid")
    check(dpop(t, [], status=0) == [], "no proofs, no output")
    secret_file = t.write("nonce-secret", os.urandom(32))
    dpop(t, [hs], "--nonce-secret", secret_file, status=1)
    t.expect(["dpop", "--uri", "https://a.example/"], 2, stderr="option --method is required")
    t.expect(["dpop", "--method", "GET"], 2, stderr="option --uri is required")
    t.expect(["dpop", "--method", "GET", "--uri", "https://a.example/", "--algs", "ES256,HS256"],
             2, stderr="HMAC")
    t.expect(["dpop", "--method", "GET", "--uri", "https://a.example/", "--nonce-lifetime", "60"],
             2, stderr="--nonce-lifetime needs --nonce-secret")
    short = t.write("short-secret", os.urandom(16))
    t.expect(["dpop", "--method", "GET", "--uri", "https://a.example/", "--nonce-secret", short],
             2, stderr="32 bytes")
    t.expect(["dpop", "--method", "GET", "--uri", "https://a.example/", "--iat-window", "0"], 2,
             stderr="iat_window")


# --- driver --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description="tegata CLI tests")
    parser.add_argument("--tegata", help="path to the tegata executable")
    parser.add_argument("--list", action="store_true", help="print the test groups")
    parser.add_argument("groups", nargs="*")
    args = parser.parse_args()
    if args.list:
        print("\n".join(GROUPS))
        return 0
    if not args.tegata:
        parser.error("--tegata is required")
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {list(GROUPS)}")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="tegata-cli-") as workdir:
        context = Context(os.path.abspath(args.tegata), workdir)
        for group in args.groups or list(GROUPS):
            for fn in GROUPS[group]:
                try:
                    fn(context)
                    print(f"ok   {group}.{fn.__name__}")
                except Failed as e:
                    failures += 1
                    print(f"FAIL {group}.{fn.__name__}: {e}")
                except Exception:
                    failures += 1
                    print(f"FAIL {group}.{fn.__name__}: {traceback.format_exc()}")
    print(f"{failures} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
