"""Pieces' pure rules: type codes (and the hook the programme data fills), which EJ a piece is about,
file names, Content-Disposition, byte ranges and ETags."""

from __future__ import annotations

import pytest

from hopen_candidature.pieces import rules
from hopen_common.programme.erreurs import RegleMetierError


def test_type_de_piece_hook() -> None:
    assert rules.verifier_type_de_piece("phase1", "P1.P1") == "P1.P1"
    # The programme data will pass its own codes: an unknown one is refused, naming `type`.
    assert rules.verifier_type_de_piece("phase1", "X.1", codes={"X.1"}) == "X.1"
    for type_, codes in (("P1.P1", {"X.1"}), ("p1.p1", None), ("P", None), ("P1 P1", None),
                         ("HC.1.0", None), ("A" * 41, None)):
        with pytest.raises(RegleMetierError) as erreur:
            rules.verifier_type_de_piece("phase1", type_, codes=codes)
        assert erreur.value.champ == "type"
    # The default codes are the programme's pieces data (ADR 0012).
    assert rules.verifier_type_de_piece("hospiconnect", "HC.1.0.2026") == "HC.1.0.2026"
    assert rules.verifier_type_de_piece("aap", "AAP.LETTRE") == "AAP.LETTRE"


def test_format_de_la_piece() -> None:
    rules.verifier_format("P1.P4", "application/vnd.oasis.opendocument.spreadsheet")
    rules.verifier_format("X", "image/png", formats={"image/png"})
    with pytest.raises(rules.FormatNonAccepte, match="P1.P2"):
        rules.verifier_format("P1.P2", "image/png")


def test_ej_de_la_piece() -> None:
    perimetre = [{"finess_ej": "520780032", "objectifs": ["P1.O1"]}]
    assert rules.ej_de_la_piece(None, perimetre=perimetre, finess="210780581") is None
    assert rules.ej_de_la_piece("520780032", perimetre=perimetre, finess="210780581") == "520780032"
    # Without a perimeter, naming the applicant is the dossier itself: one series of versions.
    assert rules.ej_de_la_piece("2A0002606", perimetre=None, finess="2A0002606") is None
    assert rules.ej_de_la_piece("800009920", perimetre=None, finess="1", participants=["800009920"]) == \
        "800009920"
    for finess_ej, perimetre_, participants in (("999999999", perimetre, None), ("520780032", None, None),
                                                ("520780032", None, ["800009920"])):
        with pytest.raises(RegleMetierError) as erreur:
            rules.ej_de_la_piece(finess_ej, perimetre=perimetre_, finess="210780581",
                                 participants=participants)
        assert erreur.value.champ == "finess_ej"


@pytest.mark.parametrize(("brut", "attendu"), [
    ("C:\\Users\\moi\\charte.pdf", "charte.pdf"), ("../../etc/passwd", "passwd"), ("", "P1.P1.pdf"),
    (None, "P1.P1.pdf"), ("a\x00b\r\n.pdf", "ab.pdf"), (".cache", "cache"),
    ("é" * 300 + ".pdf", "é" * 251 + ".pdf"),
])
def test_nom_de_fichier(brut: str | None, attendu: str) -> None:
    assert rules.nom_de_fichier(brut, defaut="P1.P1.pdf") == attendu


def test_content_disposition() -> None:
    assert rules.content_disposition('procédure "v2"; x.pdf') == (
        "attachment; filename=\"proc_dure _v2__ x.pdf\"; "
        "filename*=UTF-8''proc%C3%A9dure%20%22v2%22%3B%20x.pdf")


@pytest.mark.parametrize(("entete", "attendu"), [
    (None, None), ("bytes=0-0", (0, 1)), ("bytes=10-19", (10, 20)), ("bytes=90-", (90, 100)),
    ("bytes=-10", (90, 100)), ("bytes=-1000", (0, 100)), ("bytes=50-5000", (50, 100)),
    ("bytes=0-1,3-4", None), ("items=0-1", None), ("bytes=5-2", None), ("bytes=a-b", None), ("bytes", None),
    ("bytes=٣-4", None),  # a non-ASCII digit is not a byte position
])
def test_plage(entete: str | None, attendu: tuple[int, int] | None) -> None:
    assert rules.plage_demandee(entete, 100) == attendu


@pytest.mark.parametrize("entete", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_plage_non_satisfiable(entete: str) -> None:
    with pytest.raises(rules.PlageNonSatisfiable):
        rules.plage_demandee(entete, 100)


def test_etag() -> None:
    sha = "ab" * 32
    assert rules.etag(sha) == f'"{sha}"'
    assert rules.etag_correspond(f'"x", W/"{sha}"', sha)
    assert rules.etag_correspond("*", sha)
    assert not rules.etag_correspond('"x"', sha)
    assert not rules.etag_correspond(None, sha)
