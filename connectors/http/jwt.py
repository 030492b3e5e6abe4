"""Compact JWS (JWT) signing and verification with RSA keys: RS256 (PKCS#1 v1.5) and PS256 (RSA-PSS),
as RFC 7518 defines them. Used for OAuth 2.0 client assertions (RFC 7523) and by the stand-ins."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature as BadSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHMS = ("PS256", "RS256")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _padding(alg: str) -> padding.AsymmetricPadding:
    if alg == "PS256":
        # RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    if alg == "RS256":
        return padding.PKCS1v15()
    raise ValueError(f"unsupported JWS algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")


def sign(header: dict[str, Any], payload: dict[str, Any], private_key_pem: str) -> str:
    """`header.payload.signature`, signed with the algorithm `header["alg"]` names."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key must be an RSA key")
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = key.sign(signing_input.encode(), _padding(header["alg"]), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def verify(token: str, public_key_pem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a token whose signature holds; ValueError otherwise."""
    try:
        head, body, signature = token.split(".")
        header = json.loads(b64url_decode(head))
        payload = json.loads(b64url_decode(body))
    except (ValueError, TypeError) as exc:
        raise ValueError("malformed JWT") from exc
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the public key must be an RSA key")
    try:
        key.verify(
            b64url_decode(signature),
            f"{head}.{body}".encode(),
            _padding(header.get("alg", "")),
            hashes.SHA256(),
        )
    except BadSignature as exc:
        raise ValueError("JWT signature does not verify") from exc
    return header, payload


def new_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
