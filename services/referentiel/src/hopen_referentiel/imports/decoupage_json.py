"""Fast reading of the `pmej` array of a FINESS+ feed: one record at a time, skipping what we
do not read.

Why: a national FINESS+ file is ~540 MB of JSON (98 000 EJ, 175 000 EG), most of it contact,
engagement and event lists the referentiel never uses. Building every one of those objects with
ijson costs ~10 s; cutting the array into records with `bytes.find` and decoding each record with
msgspec into small typed structs (unknown keys are skipped at C speed) costs ~4 s.

How a record is cut out: each `pmej` item is an object whose first key is
`"informationsGeneralesPMEJ"`. That byte sequence preceded by `{` cannot occur inside a JSON
string (a quote inside a string is escaped `\\"`), so it marks an item start or nothing. A slice
from one mark to the next, minus the separating comma, decodes as one complete object only if
it is exactly one item: any other cut is unbalanced or has trailing data and fails to decode.
The cut is therefore never trusted, only verified.

Whenever the verification fails (keys in another order, a record missing that key, malformed
JSON), `DecoupageImpossible` is raised with the number of records already given; the caller
goes on with the general ijson reader from that record, which also reports real JSON errors.
A record whose values have unexpected types (not an object where one is expected) is decoded
again as plain dicts, so the field checks report it exactly as the ijson path would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

import msgspec

_MARQUE = b'"informationsGeneralesPMEJ"'
_DEBUT_PMEJ = re.compile(rb'"pmej"\s*:\s*\[')
_BLANCS = b" \t\r\n"
_BLOC = 8 << 20


class _Objet(msgspec.Struct):
    """Records are read through `.get` like the dicts of the ijson path."""

    def get(self, cle: str, defaut: Any = None) -> Any:
        return getattr(self, cle, defaut)


class _Adresse(_Objet):
    usageAdresse: Any = None
    cogCommune: Any = None


class _InfosEge(_Objet):
    numFinessEge: Any = None
    nomEgeCourt: Any = None
    nomEgeLong: Any = None
    dateFermeture: Any = None
    dateOuverture: Any = None
    siret: Any = None


class _Ege(_Objet):
    informationsGeneralesEGE: _InfosEge | None = None
    categorieentiteGeographiqueExercice: Any = None
    adresse: list[_Adresse] | None = None
    etatObjet: Any = None


class _InfosPmej(_Objet):
    pmSmsseId: Any = None
    numFinessPm: Any = None
    statutJuridique: Any = None
    denominationPm: Any = None
    denominationLonguePmSmsse: Any = None
    dateCreation: Any = None
    dateFermeture: Any = None
    siren: Any = None


class _Pmej(_Objet):
    informationsGeneralesPMEJ: _InfosPmej | None = None
    adresse: list[_Adresse] | None = None
    etatObjet: Any = None
    ege: list[_Ege] | None = None


OBJETS = (dict, _Objet)

_DECODEUR = msgspec.json.Decoder(_Pmej, float_hook=Decimal)
_DECODEUR_LIBRE = json.JSONDecoder(parse_float=Decimal)


class DecoupageImpossible(Exception):
    def __init__(self, donnes: int) -> None:
        super().__init__(f"decoupage rapide interrompu apres {donnes} enregistrements")
        self.donnes = donnes


def _decoder(morceau: bytes, donnes: int) -> object:
    try:
        return _DECODEUR.decode(morceau)
    except msgspec.ValidationError:
        # Well-formed JSON with an unexpected shape: plain dicts, the field checks say why.
        try:
            return json.loads(morceau, parse_float=Decimal)
        except ValueError:
            raise DecoupageImpossible(donnes) from None
    except msgspec.DecodeError:
        raise DecoupageImpossible(donnes) from None


def items_pmej(flux: IO[bytes]) -> Iterator[object]:
    """Yield each `pmej` item of the (decompressed) stream, or raise DecoupageImpossible."""
    tampon = b""
    fin = False

    def lire() -> bool:
        nonlocal tampon, fin
        bloc = flux.read(_BLOC)
        if not bloc:
            fin = True
            return False
        tampon += bloc
        return True

    # The array's opening: `"pmej"` as a key can only be the top-level one in this schema;
    # a wrong guess fails the verification below.
    debut = None
    while debut is None:
        trouve = _DEBUT_PMEJ.search(tampon)
        if trouve is not None:
            debut = trouve.end()
        elif not lire():
            raise DecoupageImpossible(0)
        elif len(tampon) > 4 * _BLOC:
            tampon = tampon[-64:]
    position = debut
    donnes = 0
    while True:
        while True:
            while position < len(tampon) and tampon[position] in _BLANCS:
                position += 1
            if position < len(tampon) or not lire():
                break
        if position >= len(tampon):
            raise DecoupageImpossible(donnes)
        if tampon[position] == ord("]"):
            return
        if tampon[position] != ord("{"):
            raise DecoupageImpossible(donnes)
        # The item's own first key must be the mark (else keys come in another order).
        propre = tampon.find(_MARQUE, position)
        while propre < 0 and len(tampon) - position < 4096 and lire():
            propre = tampon.find(_MARQUE, position)
        if propre < 0 or tampon[position + 1 : propre].strip(_BLANCS):
            raise DecoupageImpossible(donnes)
        recherche = propre + len(_MARQUE)
        while True:
            suivant = tampon.find(_MARQUE, recherche)
            if suivant >= 0:
                break
            ancien = len(tampon)
            if not lire():
                break
            recherche = max(recherche, ancien - len(_MARQUE))
        if suivant < 0:
            # Last item: decode one value from here and check the array closes after it.
            try:
                texte = tampon[position:].decode("utf-8")
                objet, fin_objet = _DECODEUR_LIBRE.raw_decode(texte)
            except ValueError:
                raise DecoupageImpossible(donnes) from None
            if not texte[fin_objet:].lstrip().startswith("]"):
                raise DecoupageImpossible(donnes)
            yield objet
            return
        # Back from the next mark over blanks to its `{`, then over blanks to the comma.
        accolade = suivant - 1
        while accolade > position and tampon[accolade] in _BLANCS:
            accolade -= 1
        if tampon[accolade] != ord("{"):
            raise DecoupageImpossible(donnes)
        fin_item = accolade - 1
        while fin_item > position and tampon[fin_item] in _BLANCS:
            fin_item -= 1
        if tampon[fin_item] != ord(","):
            raise DecoupageImpossible(donnes)
        yield _decoder(tampon[position:fin_item], donnes)
        donnes += 1
        position = accolade
        if position > _BLOC:
            tampon = tampon[position:]
            position = 0
