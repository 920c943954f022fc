"""Ed25519 signatures over episode-log heads and evaluation manifests, with a per-machine key kept outside every sandbox.

Why: the hash chain makes an edit *visible*, but whoever can write a log can also recompute
every hash. A signature over the log's head (the ``end`` event's ``hash``) by a key the
writer of the log never had makes a rewrite detectable: the new head has no valid signature.

The key
    ``$AIRGAP_SIGNING_KEY`` (a PEM file, PKCS#8, unencrypted) when set; otherwise
    ``<platformdirs.user_config_dir("airgap")>/signing-key.pem``, generated on first use
    (file mode 0600 in a folder of mode 0700). Only the harness's driver process reads it;
    it is never mounted into, copied into or passed (as a path or in the environment) to a
    sandbox container.

What is signed
    The ASCII bytes ``airgap:<purpose>:v1:<hex>`` where purpose is ``episode-log-head`` or
    ``manifest-root`` (so a signature over one can never pass for the other). ``key_id`` is
    the sha256 hex of the raw 32-byte public key.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_ENV = "AIRGAP_SIGNING_KEY"
KEY_FILE = "signing-key.pem"
SIG_SUFFIX = ".sig"
HEAD_PURPOSE = "episode-log-head"
ROOT_PURPOSE = "manifest-root"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class SigningError(ValueError):
    """The signing key cannot be read or made; the message says what to change."""


def key_path() -> Path:
    """Where the private key is: ``$AIRGAP_SIGNING_KEY``, else the per-user config folder."""
    given = os.environ.get(KEY_ENV)
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("airgap")) / KEY_FILE


def _generate(path: Path) -> None:
    """Create a new key at ``path`` atomically (two processes racing get the same key) with mode 0600."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made the key first: then that key is used
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _load(path: Path, generate: bool) -> Ed25519PrivateKey:
    if not path.exists():
        if not generate:
            raise SigningError(f"signing key {path} (from ${KEY_ENV}) does not exist; unset {KEY_ENV} to use "
                               "the per-machine key, or make one: openssl genpkey -algorithm ed25519 -out KEY.pem")
        _generate(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        warnings.warn(f"signing key {path} is readable by other users (mode {mode:o}); chmod 600 it", stacklevel=3)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise SigningError(f"{path} is not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


@functools.lru_cache(maxsize=4)
def _cached_key(path: str, generate: bool) -> Ed25519PrivateKey:
    return _load(Path(path), generate)


def private_key() -> Ed25519PrivateKey:
    """The signing key (read once per process and path; generated on first use when not given)."""
    return _cached_key(str(key_path()), not os.environ.get(KEY_ENV))


def _public_pem(key: Ed25519PrivateKey | None = None) -> str:
    pub = (key or private_key()).public_key()
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_pem() -> str:
    """The public half of this machine's signing key, PEM (SubjectPublicKeyInfo): give it to whoever verifies."""
    return _public_pem()


def _load_public(public_key_pem: str | bytes) -> Ed25519PublicKey:
    data = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else public_key_pem
    try:
        pub = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise SigningError(f"not a PEM public key ({e})") from None
    if not isinstance(pub, Ed25519PublicKey):
        raise SigningError(f"the public key is a {type(pub).__name__}, not Ed25519")
    return pub


def key_id(public_key_pem: str | bytes | None = None) -> str:
    """sha256 hex of the raw 32-byte public key (this machine's when none is given)."""
    pub = _load_public(public_key_pem if public_key_pem is not None else _public_pem())
    return hashlib.sha256(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def _message(purpose: str, hex_digest: str) -> bytes:
    if not isinstance(hex_digest, str) or not _HEX64.fullmatch(hex_digest):
        raise ValueError(f"expected a sha256 hex digest (64 lower-case hex digits), got {hex_digest!r}")
    return f"airgap:{purpose}:v1:{hex_digest}".encode("ascii")


def _sign(purpose: str, hex_digest: str) -> str:
    return base64.b64encode(private_key().sign(_message(purpose, hex_digest))).decode("ascii")


def _verify(purpose: str, hex_digest: str, sig_b64: str, public_key_pem: str | bytes) -> bool:
    try:
        sig = base64.b64decode(sig_b64, validate=True)
        _load_public(public_key_pem).verify(sig, _message(purpose, hex_digest))
        return True
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False


def sign_head(head_hex: str) -> str:
    """Sign a log's head hash with this machine's key; base64 Ed25519 signature."""
    return _sign(HEAD_PURPOSE, head_hex)


def verify_head(head_hex: str, sig_b64: str, public_key_pem: str | bytes) -> bool:
    """True when ``sig_b64`` is a signature of ``head_hex`` as a log head by the key ``public_key_pem``."""
    return _verify(HEAD_PURPOSE, head_hex, sig_b64, public_key_pem)


def sign_root(root_hex: str) -> str:
    """Sign an evaluation manifest's root (see :mod:`airgap.envs.logs.manifest`)."""
    return _sign(ROOT_PURPOSE, root_hex)


def verify_root(root_hex: str, sig_b64: str, public_key_pem: str | bytes) -> bool:
    """True when ``sig_b64`` is a signature of ``root_hex`` as a manifest root by the key ``public_key_pem``."""
    return _verify(ROOT_PURPOSE, root_hex, sig_b64, public_key_pem)


# --------------------------------------------------------------------------- one log


def sig_path(log: str | os.PathLike) -> Path:
    """``<log>.sig``: the signature record kept beside a log."""
    return Path(str(log) + SIG_SUFFIX)


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def seal_log(log: str | os.PathLike) -> dict:
    """Verify a finished log's chain, sign its head and write ``<log>.sig``; returns ``{head, signature, key_id}``.

    Only a log that verifies ``ok`` (intact, ends with ``end``) is signed. Otherwise the
    record has ``signature: None`` and ``sign_error`` (the verify status and message), and no
    ``.sig`` is written: an unfinished log's head would still change.
    """
    from .reader import verify

    r = verify(log, check_schema=False)
    if r.status != "ok" or r.head is None:
        return {"head": r.head, "signature": None, "key_id": None, "sign_error": f"log is {r.status}: {r.message}"}
    rec = {"head": r.head, "signature": sign_head(r.head), "key_id": key_id()}
    _write_json_atomic(sig_path(log), rec)
    return rec


def check_log_signature(log: str | os.PathLike, head: str | None, public_key_pem: str | bytes) -> tuple[bool, str]:
    """Check ``<log>.sig`` against the log's verified ``head`` and a public key: ``(ok, message)``."""
    p = sig_path(log)
    if not p.is_file():
        return False, f"no signature: {p.name} is missing"
    try:
        rec = json.loads(p.read_text(encoding="utf-8"))
        signed_head, sig, kid = rec["head"], rec["signature"], rec.get("key_id")
    except (ValueError, KeyError, TypeError) as e:
        return False, f"{p.name} is not a signature record ({e})"
    want = key_id(public_key_pem)
    if kid is not None and kid != want:
        return False, f"signed by another key (key_id {str(kid)[:16]}…, the given key is {want[:16]}…)"
    if not isinstance(signed_head, str) or not verify_head(signed_head, sig, public_key_pem):
        return False, "the signature is not valid for this key (the .sig file was forged or edited)"
    if head != signed_head:
        return False, (f"the log's head {str(head)[:16]}… is not the signed head {signed_head[:16]}… "
                       "(the log was rewritten, truncated or replaced after signing)")
    return True, "signature valid"
