"""A `multipart/form-data` body read as it arrives, part after part (issue 8).

FastAPI's `UploadFile` (and Starlette's `request.form()`) spool the whole body before the handler
runs: a 20 MiB limit would be enforced after 20 MiB (or 2 GiB) were received and written to a
temporary file. Here python-multipart's low-level `MultipartParser` (already a dependency of
FastAPI) is fed the request's chunks one by one; its callbacks queue events, and each part's body is
an async iterator of the bytes of the chunk being parsed. The file part can therefore be streamed
into the store (`recevoir_piece`) while it is received: at most one network chunk of it is in memory,
and stopping its iteration (413, 415) stops reading the request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Final

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from hopen_common.problemes import MULTIPART_ATTENDU, VALIDATION, ProblemError

PARTIES_MAX: Final = 8  # type, fichier, finess_ej: a few more are refused by name anyway
ENTETES_MAX: Final = 8
ENTETE_TAILLE_MAX: Final = 4096


def frontiere(content_type: str | None) -> bytes:
    """The boundary of a `multipart/form-data` Content-Type; 415 naming the header otherwise."""
    media, options = parse_options_header(content_type or "")
    limite = options.get(b"boundary")
    if media != b"multipart/form-data" or not limite:
        raise MULTIPART_ATTENDU.erreur("envoyez la pièce en multipart/form-data (champs type et fichier)",
                                       champ="Content-Type")
    return limite


def _formulaire_invalide(detail: str) -> ProblemError:
    return VALIDATION.erreur(f"formulaire multipart invalide : {detail}", champ="fichier")


@dataclass
class Partie:
    """One part, headers read. Iterate `corps` to the end (or let `FormulaireEnFlux.parties` drain
    it) before asking for the next part."""

    nom: str  # the form field's name
    nom_fichier: str | None  # set for a file part (even empty), None for a plain field
    corps: AsyncIterator[bytes]

    async def texte(self, *, maximum: int) -> str:
        """A plain field's value (UTF-8), refused past `maximum` bytes, naming the field."""
        valeur = b""
        async for morceau in self.corps:
            valeur += morceau
            if len(valeur) > maximum:
                raise VALIDATION.erreur(f"{self.nom} : {maximum} octets au plus", champ=self.nom)
        try:
            return valeur.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise VALIDATION.erreur(f"{self.nom} : texte UTF-8 attendu", champ=self.nom) from None


class FormulaireEnFlux:
    """The parts of one request body, in order, parsed incrementally."""

    def __init__(self, flux: AsyncIterable[bytes], limite: bytes) -> None:
        self._flux = flux
        self._evenements: deque[tuple[str, bytes]] = deque()
        pousser = self._evenements.append

        def donnees(type_: str) -> object:
            return lambda data, debut, fin: pousser((type_, bytes(data[debut:fin])))

        def signal(type_: str) -> object:
            return lambda: pousser((type_, b""))

        self._parser = MultipartParser(limite, {  # type: ignore[arg-type]
            "on_part_begin": signal("debut"),
            "on_header_field": donnees("champ"),
            "on_header_value": donnees("valeur"),
            "on_header_end": signal("fin_entete"),
            "on_headers_finished": signal("fin_entetes"),
            "on_part_data": donnees("donnees"),
            "on_part_end": signal("fin_partie"),
            "on_end": signal("fin"),
        }, max_header_count=ENTETES_MAX, max_header_size=ENTETE_TAILLE_MAX)

    async def _suivants(self) -> AsyncIterator[tuple[str, bytes]]:
        try:
            async for morceau in self._flux:
                self._parser.write(morceau)
                while self._evenements:
                    yield self._evenements.popleft()
            self._parser.finalize()
        except MultipartParseError as exc:
            raise _formulaire_invalide(str(exc)) from None
        while self._evenements:
            yield self._evenements.popleft()

    @staticmethod
    async def _corps(evenements: AsyncIterator[tuple[str, bytes]]) -> AsyncIterator[bytes]:
        async for type_, valeur in evenements:
            if type_ == "donnees":
                if valeur:
                    yield valeur
            elif type_ == "fin_partie":
                return
        # The body ended inside this part (a truncated upload): raising makes the store discard
        # what it received instead of keeping a partial file.
        raise _formulaire_invalide("corps tronqué")

    async def parties(self) -> AsyncIterator[Partie]:
        evenements = self._suivants()
        entetes: dict[bytes, bytes] = {}
        champ = valeur = b""
        nombre = 0
        async for type_, donnee in evenements:
            if type_ == "debut":
                entetes, champ, valeur = {}, b"", b""
            elif type_ == "champ":
                champ += donnee
            elif type_ == "valeur":
                valeur += donnee
            elif type_ == "fin_entete":
                entetes[champ.strip().lower()] = valeur.strip()
                champ = valeur = b""
            elif type_ == "fin_entetes":
                nombre += 1
                if nombre > PARTIES_MAX:
                    raise _formulaire_invalide(f"{PARTIES_MAX} parties au plus")
                disposition, options = parse_options_header(
                    entetes.get(b"content-disposition", b"").decode("latin-1"))
                if disposition != b"form-data" or b"name" not in options:
                    raise _formulaire_invalide("chaque partie a un Content-Disposition: form-data; name=...")
                fichier = options.get(b"filename")
                partie = Partie(
                    nom=options[b"name"].decode("utf-8", "replace")[:50],
                    # Clients send the name's UTF-8 bytes (RFC 7578 4.2); a header is read as latin-1.
                    nom_fichier=None if fichier is None else fichier.decode("utf-8", "replace"),
                    corps=self._corps(evenements))
                yield partie
                async for _ in partie.corps:  # whatever the caller left unread of this part
                    pass
            elif type_ == "fin":
                return
        raise _formulaire_invalide("corps tronqué")
