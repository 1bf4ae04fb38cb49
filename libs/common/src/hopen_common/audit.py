"""The audit journal that proves itself (ADR 0024): a hash chain per service, computed by a
PostgreSQL BEFORE INSERT trigger (no code path can skip it), signed checkpoints, and the offline
verifier that recomputes both.

Canonical text of a row (version 1), the same in SQL (``hopen_audit_canonique``) and here::

    hopen-audit-v1\\n
    then, for each field in this order: id, sequence, acteur, role, action, objet_type, objet_id,
    region, motivation, details, horodatage, hash_precedent:
        <name>=<length in characters>:<value>\\n      (a NULL is <name>=-\\n)

``details`` is its ``jsonb::text`` (what PostgreSQL prints, kept verbatim by dumps and the API),
``horodatage`` the epoch in microseconds. The length prefix makes field boundaries unambiguous
whatever a value contains. ``hash`` = hex SHA-256 of the UTF-8 canonical text; the first row's
``hash_precedent`` is GENESE (64 zeros).

A checkpoint signs ``hopen-audit-point-v1\\n<service>\\n<sequence>\\n<hash>\\n<epoch µs>\\n<cle_id>``
with the service's Ed25519 key.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

GENESE = "0" * 64
CHAMPS = ("id", "sequence", "acteur", "role", "action", "objet_type", "objet_id", "region",
          "motivation", "details", "horodatage", "hash_precedent")
VERROU_CHAINE = 0x68_6F_70_65  # "hope": the transaction-level advisory lock that serialises writers
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def microsecondes(horodatage: datetime) -> int:
    delta = horodatage - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def texte_canonique(ligne: dict[str, Any]) -> str:
    """``ligne`` holds every CHAMPS value as text-ready values: details as its jsonb text,
    horodatage as a datetime or epoch microseconds."""
    parties = ["hopen-audit-v1\n"]
    for nom in CHAMPS:
        valeur = ligne.get(nom)
        if valeur is None:
            parties.append(f"{nom}=-\n")
            continue
        if nom == "horodatage" and isinstance(valeur, datetime):
            valeur = microsecondes(valeur)
        texte = str(valeur)
        parties.append(f"{nom}={len(texte)}:{texte}\n")
    return "".join(parties)


def hash_ligne(ligne: dict[str, Any]) -> str:
    return hashlib.sha256(texte_canonique(ligne).encode("utf-8")).hexdigest()


# --- DDL (called by one migration of every service) -------------------------------------------

_CANONIQUE_SQL = """
CREATE OR REPLACE FUNCTION hopen_audit_canonique(r journal_audit) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'hopen-audit-v1' || E'\\n'
    || hopen_audit_champ('id', r.id::text)
    || hopen_audit_champ('sequence', r.sequence::text)
    || hopen_audit_champ('acteur', r.acteur)
    || hopen_audit_champ('role', r.role)
    || hopen_audit_champ('action', r.action)
    || hopen_audit_champ('objet_type', r.objet_type)
    || hopen_audit_champ('objet_id', r.objet_id)
    || hopen_audit_champ('region', r.region)
    || hopen_audit_champ('motivation', r.motivation)
    || hopen_audit_champ('details', r.details::text)
    || hopen_audit_champ('horodatage', (extract(epoch FROM r.horodatage) * 1000000)::bigint::text)
    || hopen_audit_champ('hash_precedent', r.hash_precedent)
$$
"""

_CHAMP_SQL = """
CREATE OR REPLACE FUNCTION hopen_audit_champ(nom text, valeur text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN valeur IS NULL THEN nom || '=-' || E'\\n'
                ELSE nom || '=' || length(valeur)::text || ':' || valeur || E'\\n' END
$$
"""

_CHAINER_SQL = f"""
CREATE OR REPLACE FUNCTION hopen_audit_chainer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    dernier record;
BEGIN
    -- Held until commit: the next writer reads this row's hash only once it is committed.
    -- The SELECT below takes its own snapshot after the lock (READ COMMITTED), so it sees it.
    PERFORM pg_advisory_xact_lock({VERROU_CHAINE});
    SELECT sequence, hash INTO dernier FROM journal_audit ORDER BY sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        NEW.sequence := 1;
        NEW.hash_precedent := '{GENESE}';
    ELSE
        NEW.sequence := dernier.sequence + 1;
        NEW.hash_precedent := dernier.hash;
    END IF;
    IF NEW.horodatage IS NULL THEN
        NEW.horodatage := now();
    END IF;
    -- Rounded to the microsecond as stored, so the hash is over what a reader gets back.
    NEW.hash := encode(sha256(convert_to(hopen_audit_canonique(NEW), 'UTF8')), 'hex');
    RETURN NEW;
END
$$
"""


def chainer_journal_audit(op: Any) -> None:
    """Add sequence, hash_precedent, hash and region to journal_audit, chain the existing rows in
    id order, then chain every new row by trigger; create point_de_controle_audit (immutable)."""
    import sqlalchemy as sa

    from hopen_common.db.migrations import rendre_immuables

    op.add_column("journal_audit", sa.Column("region", sa.String(length=3), nullable=True))
    op.add_column("journal_audit", sa.Column("sequence", sa.BigInteger(), nullable=True))
    op.add_column("journal_audit", sa.Column("hash_precedent", sa.String(length=64), nullable=True))
    op.add_column("journal_audit", sa.Column("hash", sa.String(length=64), nullable=True))
    op.execute(_CHAMP_SQL)
    op.execute(_CANONIQUE_SQL)
    # Existing rows: chained once, in id order, with the immutability trigger lifted for it only.
    op.execute("ALTER TABLE journal_audit DISABLE TRIGGER journal_audit_immuable")
    op.execute(f"""
        DO $$
        DECLARE r journal_audit; n bigint := 0; precedent text := '{GENESE}';
        BEGIN
            FOR r IN SELECT * FROM journal_audit ORDER BY id LOOP
                n := n + 1;
                r.sequence := n;
                r.hash_precedent := precedent;
                precedent := encode(sha256(convert_to(hopen_audit_canonique(r), 'UTF8')), 'hex');
                UPDATE journal_audit SET sequence = n, hash_precedent = r.hash_precedent, hash = precedent
                WHERE id = r.id;
            END LOOP;
        END
        $$
    """)
    op.execute("ALTER TABLE journal_audit ENABLE TRIGGER journal_audit_immuable")
    for colonne in ("sequence", "hash_precedent", "hash"):
        op.alter_column("journal_audit", colonne, nullable=False)
    op.create_unique_constraint("uq_journal_audit_sequence", "journal_audit", ["sequence"])
    op.create_index("ix_journal_audit_objet", "journal_audit", ["objet_type", "objet_id"])
    op.execute(_CHAINER_SQL)
    op.execute("CREATE TRIGGER journal_audit_chaine BEFORE INSERT ON journal_audit"
               " FOR EACH ROW EXECUTE FUNCTION hopen_audit_chainer()")
    op.create_table(
        "point_de_controle_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("horodatage", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cle_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_de_controle_audit")),
    )
    rendre_immuables(op, "point_de_controle_audit")


def dechainer_journal_audit(op: Any) -> None:
    op.drop_table("point_de_controle_audit")
    op.execute("DROP TRIGGER IF EXISTS journal_audit_chaine ON journal_audit")
    op.execute("DROP FUNCTION IF EXISTS hopen_audit_chainer()")
    op.drop_index("ix_journal_audit_objet", table_name="journal_audit")
    op.drop_constraint("uq_journal_audit_sequence", "journal_audit", type_="unique")
    op.execute("DROP FUNCTION IF EXISTS hopen_audit_canonique(journal_audit)")
    op.execute("DROP FUNCTION IF EXISTS hopen_audit_champ(text, text)")
    for colonne in ("hash", "hash_precedent", "sequence", "region"):
        op.drop_column("journal_audit", colonne)


# --- Checkpoints ---------------------------------------------------------------------------------

def texte_point(service: str, *, sequence: int, hash_: str, horodatage: datetime | int, cle_id: str) -> str:
    us = microsecondes(horodatage) if isinstance(horodatage, datetime) else horodatage
    return f"hopen-audit-point-v1\n{service}\n{sequence}\n{hash_}\n{us}\n{cle_id}"


def cle_privee_de_dev(service: str) -> bytes:
    """Development only (refused in production by the settings): derived from the service's name,
    so every dev stack and test signs the same way without a key file."""
    return hashlib.sha256(f"hopen-dev-audit:{service}".encode()).digest()


def cle_publique(graine: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Ed25519PrivateKey.from_private_bytes(graine).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def cle_id(publique: bytes) -> str:
    return hashlib.sha256(publique).hexdigest()[:16]


def signer(graine: bytes, texte: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return base64.b64encode(Ed25519PrivateKey.from_private_bytes(graine).sign(texte.encode())).decode()


def signature_valide(publique: bytes, texte: str, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(publique).verify(base64.b64decode(signature), texte.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


async def poser_point_de_controle(session: Any, *, service: str, graine: bytes) -> dict[str, Any] | None:
    """Sign the head of the chain, in the caller's transaction; None when the journal is empty or
    the head is signed already (a checkpoint a minute of an idle service says nothing new)."""
    from sqlalchemy import text

    # The chain's lock: the head cannot move between reading it and signing it.
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": VERROU_CHAINE})
    tete = (await session.execute(text(
        "SELECT sequence, hash FROM journal_audit ORDER BY sequence DESC LIMIT 1"))).first()
    if tete is None:
        return None
    dernier = await session.scalar(text("SELECT max(sequence) FROM point_de_controle_audit"))
    if dernier is not None and dernier >= tete.sequence:
        return None
    horodatage = (await session.scalar(text("SELECT date_trunc('milliseconds', now())")))
    publique = cle_publique(graine)
    identifiant = cle_id(publique)
    signature = signer(graine, texte_point(service, sequence=tete.sequence, hash_=tete.hash,
                                           horodatage=horodatage, cle_id=identifiant))
    await session.execute(text(
        "INSERT INTO point_de_controle_audit (sequence, hash, horodatage, cle_id, signature)"
        " VALUES (:s, :h, :t, :c, :g)"),
        {"s": tete.sequence, "h": tete.hash, "t": horodatage, "c": identifiant, "g": signature})
    return {"sequence": tete.sequence, "hash": tete.hash, "horodatage": horodatage,
            "cle_id": identifiant, "signature": signature}


# --- Verifier (pure: rows in, findings out) ------------------------------------------------------

@dataclass
class Constat:
    nature: str  # alteree | inseree | supprimee | fin-tronquee | point-invalide | chaine-reecrite
    sequence: int | None
    message: str
    id: int | None = None


@dataclass
class Rapport:
    lignes: int = 0
    points: int = 0
    constats: list[Constat] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.constats


def _recalcule(ligne: dict[str, Any], **autres: Any) -> str:
    return hash_ligne({**ligne, **autres})


def verifier(lignes: Sequence[dict[str, Any]], points: Sequence[dict[str, Any]], *, service: str,
             cle_publique_: bytes, progression: Any = None) -> Rapport:
    """Recompute the chain and every checkpoint; name the first row altered, inserted or removed.

    Each row holds CHAMPS plus ``hash``; each point sequence, hash, horodatage, cle_id, signature.
    After the first break in the chain the following rows cannot be judged (their predecessor is
    unknown): the report names that first break, then the checkpoints' findings."""
    rapport = Rapport(lignes=len(lignes), points=len(points))
    ordonnees = sorted(lignes, key=lambda r: int(r["sequence"]))
    par_hash = {r["hash"]: i for i, r in enumerate(ordonnees)}
    precedent: dict[str, Any] | None = None
    for i, ligne in enumerate(ordonnees):
        if progression is not None:
            progression(i + 1, len(ordonnees))
        seq = int(ligne["sequence"])
        attendu_seq = 1 if precedent is None else int(precedent["sequence"]) + 1
        attendu_hash = GENESE if precedent is None else precedent["hash"]
        propre = _recalcule(ligne) == ligne["hash"]
        lie = ligne["hash_precedent"] == attendu_hash
        if propre and lie and seq == attendu_seq:
            precedent = ligne
            continue
        constat = _qualifier(ordonnees, i, ligne, precedent, par_hash, propre=propre, lie=lie,
                             attendu_seq=attendu_seq)
        rapport.constats.append(constat)
        break
    par_sequence = {int(r["sequence"]): r for r in ordonnees}
    derniere = int(ordonnees[-1]["sequence"]) if ordonnees else 0
    for point in sorted(points, key=lambda p: int(p["sequence"])):
        texte = texte_point(service, sequence=int(point["sequence"]), hash_=point["hash"],
                            horodatage=point["horodatage"], cle_id=point["cle_id"])
        if point["cle_id"] != cle_id(cle_publique_) or not signature_valide(
                cle_publique_, texte, point["signature"]):
            rapport.constats.append(Constat("point-invalide", int(point["sequence"]),
                                            f"point de contrôle {point['sequence']} : signature invalide"))
            continue
        s = int(point["sequence"])
        if s > derniere:
            rapport.constats.append(Constat(
                "fin-tronquee", derniere + 1,
                f"fin tronquée : le point de contrôle signé couvre la séquence {s}, le journal s'arrête "
                f"à {derniere} (lignes {derniere + 1} à {s} supprimées)"))
        elif s in par_sequence and par_sequence[s]["hash"] != point["hash"]:
            rapport.constats.append(Constat(
                "chaine-reecrite", s, f"la ligne de séquence {s} n'a pas le hash signé au point de contrôle"
                " : la chaîne a été réécrite avant elle"))
    return rapport


def _qualifier(ordonnees: Sequence[dict[str, Any]], i: int, ligne: dict[str, Any],
               precedent: dict[str, Any] | None, par_hash: dict[str, int], *, propre: bool, lie: bool,
               attendu_seq: int) -> Constat:
    seq, ident = int(ligne["sequence"]), ligne.get("id")
    if propre and not lie and seq > attendu_seq:
        return Constat("supprimee", attendu_seq,
                       f"ligne(s) supprimée(s) : séquences {attendu_seq} à {seq - 1} absentes"
                       f" (avant la ligne id {ident})", ident)
    if not propre:
        # Renumbered to hide the gap (or to make room)? Its hash holds its original sequence.
        for decalage in range(1, 50):
            for d in (decalage, -decalage):
                if _recalcule(ligne, sequence=seq + d) == ligne["hash"]:
                    if d > 0:
                        return Constat("supprimee", seq,
                                       f"{d} ligne(s) supprimée(s) avant la ligne id {ident} (séquence "
                                       f"d'origine {seq + d}, renumérotée {seq})", ident)
                    j = par_hash.get(ligne["hash_precedent"])
                    inseree = ordonnees[j + 1] if j is not None and j + 1 < i else precedent
                    s_ins = int(inseree["sequence"]) if inseree else seq - 1
                    id_ins = inseree.get("id") if inseree else None
                    return Constat("inseree", s_ins,
                                   f"ligne insérée : séquence {s_ins} (id {id_ins}), la ligne id {ident}"
                                   f" a été renumérotée de {seq + d} à {seq}", id_ins)
        if lie:
            return Constat("alteree", seq, f"ligne altérée : séquence {seq} (id {ident}), son contenu ne"
                           " correspond plus à son hash", ident)
        return Constat("alteree", seq, f"ligne altérée ou forgée : séquence {seq} (id {ident})", ident)
    # Self-consistent but not linked to its predecessor, with no gap: forged in place.
    if precedent is not None and i + 1 < len(ordonnees) and ordonnees[i + 1]["hash_precedent"] == \
            precedent["hash"]:
        return Constat("inseree", seq, f"ligne insérée : séquence {seq} (id {ident})", ident)
    return Constat("alteree", seq, f"chaîne rompue à la séquence {seq} (id {ident}) : son hash précédent "
                   "n'est pas celui de la ligne d'avant", ident)


# --- Reading a pg_dump (plain format) ------------------------------------------------------------

_COPY = re.compile(r"^COPY (?:\w+\.)?(\w+) \(([^)]*)\) FROM stdin;$")
_ECHAPPEMENTS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _decode_copy(champ: str) -> str | None:
    if champ == r"\N":
        return None
    return re.sub(r"\\(.)", lambda m: _ECHAPPEMENTS.get(m.group(1), m.group(1)), champ)


def _horodatage_pg(texte: str) -> datetime:
    # e.g. 2026-12-02 11:13:36.123456+00 or +05:30
    m = re.match(r"^(.*?)([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$", texte)
    if not m:
        raise ValueError(f"horodatage illisible : {texte!r}")
    base = datetime.fromisoformat(m.group(1))
    signe = -1 if m.group(2).startswith("-") else 1
    decalage = timedelta(hours=abs(int(m.group(2))), minutes=int(m.group(3) or 0),
                         seconds=int(m.group(4) or 0))
    return (base - signe * decalage).replace(tzinfo=UTC)


def lire_pg_dump(texte: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The journal_audit and point_de_controle_audit rows of a plain-format pg_dump."""
    tables: dict[str, list[dict[str, Any]]] = {"journal_audit": [], "point_de_controle_audit": []}
    lignes = texte.splitlines()
    i = 0
    while i < len(lignes):
        m = _COPY.match(lignes[i])
        i += 1
        if not m or m.group(1) not in tables:
            continue
        colonnes = [c.strip().strip('"') for c in m.group(2).split(",")]
        while i < len(lignes) and lignes[i] != r"\.":
            valeurs = [_decode_copy(v) for v in lignes[i].split("\t")]
            ligne: dict[str, Any] = dict(zip(colonnes, valeurs, strict=True))
            if ligne.get("horodatage") is not None:
                ligne["horodatage"] = _horodatage_pg(ligne["horodatage"])
            tables[m.group(1)].append(ligne)
            i += 1
    return tables["journal_audit"], tables["point_de_controle_audit"]
