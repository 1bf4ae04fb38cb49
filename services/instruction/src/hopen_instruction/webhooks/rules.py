"""Webhook rules, pure (no I/O): which events a subscription receives, the retry schedule, what an
answer means, which destinations are refused (SSRF), the feed's cursor."""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import hopen_common.contracts  # noqa: F401  (registers every payload: the catalogue below)
from hopen_common.contracts.topics import EVENEMENTS_PAR_TOPIC
from hopen_common.events.registry import modeles_enregistres

# The event sent by POST /v1/webhooks/{id}/test: never on Kafka, never in the feed.
TYPE_TEST = "WebhookTest"
# Spec schedule (Standard Webhooks, "retry schedule"): the delay before attempt n+1 after attempt n.
CALENDRIER_SPEC: tuple[float, ...] = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
EXTRAIT_MAX = 200  # characters of a receiver's answer kept: never more is echoed back by our API


# Internal control, not for the regions' systems: who holds which rights (ADR 0022) stays inside the
# platform (the referentiel's API shows it to those allowed to read it).
TYPES_INTERNES = frozenset({"HabilitationModifiee"})


def catalogue() -> frozenset[str]:
    """The CloudEvents types of the AsyncAPI document: those the topics table routes and the
    registry knows (docs/asyncapi.json is generated from the same two), but the internal ones."""
    enregistres = {type_ for type_, _ in modeles_enregistres()}
    return frozenset(t for types in EVENEMENTS_PAR_TOPIC.values() for t in types
                     if t in enregistres and t not in TYPES_INTERNES)


def types_inconnus(types: Iterable[str]) -> list[str]:
    connus = catalogue()
    return sorted({t for t in types if t not in connus})


# --- regions ------------------------------------------------------------------------------------------

# The reading of ADR 0026: an event's region is its payload's `region` (every regional event carries
# it: dossiers, projects, amounts, envelope entries, reminders...); a transfer proposal concerns its
# two regions. No region (ProgrammePublie): national, only the national subscriptions get it.
CHAMPS_REGION_SECONDAIRES = ("source_region", "destination_region")


def regions_de(data: Mapping[str, Any]) -> list[str]:
    region = data.get("region")
    if isinstance(region, str):
        return [region]
    return sorted({v for k in CHAMPS_REGION_SECONDAIRES if isinstance(v := data.get(k), str)})


def concerne(*, types: Sequence[str], region: str | None, type_evenement: str,
             regions_evenement: Sequence[str]) -> bool:
    """A subscription (its types, its region or None for national) receives this event."""
    return type_evenement in types and (region is None or region in regions_evenement)


# --- schedule and outcomes ----------------------------------------------------------------------------

class Issue(StrEnum):
    LIVREE = "livree"  # 2xx
    REESSAYER = "reessayer"  # anything else, the schedule goes on
    DESACTIVER = "desactiver"  # 410 Gone: the receiver asks us to stop


@dataclass(frozen=True)
class Verdict:
    issue: Issue
    attendre_secondes: float | None = None  # Retry-After of a 429/503, when it said one


def juger(statut: int | None, retry_after: str | None = None, *, maintenant: datetime) -> Verdict:
    """What one attempt's answer means (None: no answer, a timeout or a refused connection). A 3xx
    is a failure: redirects are never followed (they could lead anywhere, SSRF)."""
    if statut is not None and 200 <= statut < 300:
        return Verdict(Issue.LIVREE)
    if statut == 410:
        return Verdict(Issue.DESACTIVER)
    if statut in (429, 503) and retry_after:
        return Verdict(Issue.REESSAYER, lire_retry_after(retry_after, maintenant=maintenant))
    return Verdict(Issue.REESSAYER)


def lire_retry_after(valeur: str, *, maintenant: datetime) -> float | None:
    """Seconds (RFC 9110 10.2.3: delta-seconds or an HTTP date); None when unreadable."""
    valeur = valeur.strip()
    if valeur.isdigit():
        return float(valeur)
    try:
        quand = parsedate_to_datetime(valeur)
    except (TypeError, ValueError):
        return None
    if quand.tzinfo is None:
        quand = quand.replace(tzinfo=UTC)
    return max(0.0, (quand - maintenant).total_seconds())


def prochaine_tentative(tentatives: int, *, calendrier: Sequence[float], gigue: float,
                        maintenant: datetime, attendre: float | None = None,
                        alea: random.Random | None = None) -> datetime | None:
    """When attempt `tentatives + 1` runs, after `tentatives` failed; None when the schedule is
    exhausted. `calendrier[0]` is the first attempt (immediate), `calendrier[n]` the delay after the
    n-th failure. The jitter (± `gigue`, a fraction) spreads the retries of an outage's backlog. A
    Retry-After is honoured (never earlier than it says) but capped at the schedule's longest step."""
    if tentatives >= len(calendrier):
        return None
    delai = calendrier[tentatives]
    delai *= 1 + (alea or random).uniform(-gigue, gigue)
    if attendre is not None:
        delai = max(delai, min(attendre, max(calendrier)))
    return maintenant + timedelta(seconds=max(0.0, delai))


def extrait(texte: str) -> str:
    return texte[:EXTRAIT_MAX]


# --- egress (SSRF) ------------------------------------------------------------------------------------

class DestinationRefusee(ValueError):
    """A URL or an address a delivery must not reach."""


# What `is_global` misses or what we name explicitly: the cloud metadata addresses (AWS, GCP, Azure:
# 169.254.169.254, link-local anyway; AWS IMDSv2 over IPv6; Alibaba) and the shared CGNAT range.
_METADONNEES = tuple(ipaddress.ip_network(n) for n in (
    "169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32", "100.64.0.0/10"))


def adresse_refusee(adresse: str, *, permises: Sequence[str] = ()) -> str | None:
    """Why `adresse` (an IP) must not be reached, or None. Private, loopback, link-local, metadata,
    multicast, reserved and unspecified addresses are refused unless a network of `permises` (CIDR,
    the allow-list setting) contains it; an IPv4-mapped IPv6 address is judged as its IPv4.
    Memoized: the verdict on an address never changes (a name is still resolved at every delivery)."""
    return _adresse_refusee(adresse, tuple(permises))


@functools.lru_cache(maxsize=4096)
def _adresse_refusee(adresse: str, permises: tuple[str, ...]) -> str | None:
    ip = ipaddress.ip_address(adresse.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in ipaddress.ip_network(p, strict=False) for p in permises):
        return None
    if any(ip in n for n in _METADONNEES if n.version == ip.version):
        return "adresse de métadonnées"
    for nom, refusee in (("boucle locale", ip.is_loopback), ("lien local", ip.is_link_local),
                         ("privée", ip.is_private), ("multicast", ip.is_multicast),
                         ("non spécifiée", ip.is_unspecified), ("réservée", ip.is_reserved)):
        if refusee:
            return f"adresse {nom}"
    if not ip.is_global:
        return "adresse non publique"
    return None


def verifier_url(url: str, *, https_seulement: bool, permises: Sequence[str] = ()) -> str:
    """The URL's host, once its form is acceptable: http(s) with a host, https only in production, no
    credentials in it; a literal IP is judged at once (a name is judged at every delivery)."""
    try:
        morceaux = urlsplit(url)
        hote = morceaux.hostname
        morceaux.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise DestinationRefusee(f"URL illisible : {exc}") from None
    if morceaux.scheme not in ("http", "https") or not hote:
        raise DestinationRefusee("URL http(s) attendue, avec un hôte")
    if https_seulement and morceaux.scheme != "https":
        raise DestinationRefusee("https seulement en production")
    if morceaux.username or morceaux.password:
        raise DestinationRefusee("pas d'identifiants dans l'URL (le secret signe les livraisons)")
    try:
        ipaddress.ip_address(hote)
    except ValueError:
        return hote
    if (motif := adresse_refusee(hote, permises=permises)) is not None:
        raise DestinationRefusee(f"{hote} : {motif}")
    return hote


@dataclass(frozen=True)
class Destination:
    hote: str
    port: int
    litterale: bool  # the host is an IP address (judged by verifier_url, nothing to resolve)


def destination(url: str, *, https_seulement: bool, permises: Sequence[str] = ()) -> Destination:
    """`verifier_url` and what a delivery needs of the URL, memoized (every delivery asks: a URL's form
    and a literal address's verdict never change; a name is still resolved and judged each time)."""
    return _destination(url, https_seulement, tuple(permises))


@functools.lru_cache(maxsize=4096)
def _destination(url: str, https_seulement: bool, permises: tuple[str, ...]) -> Destination:
    hote = verifier_url(url, https_seulement=https_seulement, permises=permises)
    morceaux = urlsplit(url)
    try:
        ipaddress.ip_address(hote)
        litterale = True
    except ValueError:
        litterale = False
    return Destination(hote, morceaux.port or (443 if morceaux.scheme == "https" else 80), litterale)


# --- the feed's cursor --------------------------------------------------------------------------------

class CurseurInvalide(ValueError):
    pass


def curseur(position: int) -> str:
    """Opaque to clients (they pass it back as it is): the store's position, versioned."""
    return base64.urlsafe_b64encode(f"v1:{position}".encode()).decode().rstrip("=")


def position(curseur_: str) -> int:
    try:
        texte = base64.urlsafe_b64decode(curseur_ + "=" * (-len(curseur_) % 4)).decode()
        version, valeur = texte.split(":", 1)
        if version != "v1" or not valeur.isdigit():
            raise ValueError(texte)
        return int(valeur)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise CurseurInvalide("curseur illisible : passez celui d'une réponse précédente") from None
