"""The subscriptions' secrets at rest (ADR 0026): the platform must sign with them, so they are kept
recoverable, encrypted with AES-256-GCM under a key of the settings (never in the database), the
subscription's id as associated data so that a ciphertext copied onto another subscription does not
decrypt. Development and tests use a key derived from the service's name; production refuses to start
without its own (InstructionSettings)."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TAILLE_NONCE = 12


def cle_de_dev(service: str) -> bytes:
    return hashlib.sha256(f"hopen-webhooks-dev-only:{service}".encode()).digest()


def cle_configuree(configuree: str, service: str) -> bytes:
    """The settings' key (base64 of 32 bytes), or the development one when empty."""
    if not configuree:
        return cle_de_dev(service)
    cle = base64.b64decode(configuree)
    if len(cle) != 32:
        raise ValueError("webhooks_cle_secrets : 32 octets en base64 attendus (AES-256)")
    return cle


def chiffrer(cle: bytes, secret: str, *, abonnement_id: str) -> bytes:
    nonce = os.urandom(TAILLE_NONCE)
    return nonce + AESGCM(cle).encrypt(nonce, secret.encode(), abonnement_id.encode())


def dechiffrer(cle: bytes, chiffre: bytes, *, abonnement_id: str) -> str:
    nonce, corps = chiffre[:TAILLE_NONCE], chiffre[TAILLE_NONCE:]
    return AESGCM(cle).decrypt(nonce, corps, abonnement_id.encode()).decode()
