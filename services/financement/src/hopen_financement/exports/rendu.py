"""CSV (`;`, UTF-8, amounts as decimal strings with a point) and XLSX renderings of a circular."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from hopen_financement.exports.rules import MONTANTS, Circulaire

ENTETES = ("region", "finess", "raison_sociale", "dispositif", "objectifs", *MONTANTS)


def _rangees(c: Circulaire) -> list[list[str | Decimal]]:
    rangees: list[list[str | Decimal]] = []
    for ligne in c.lignes:
        m = ligne.montants()
        rangees.append([ligne.region, ligne.finess, ligne.raison_sociale, ligne.dispositif,
                        ", ".join(ligne.objectifs), *(m[k] for k in MONTANTS)])
    for total in (*c.sous_totaux, c.total):
        rangees.append([total.libelle, "", "", "", "", *(total.montants[k] for k in MONTANTS)])
    return rangees


def en_csv(c: Circulaire) -> bytes:
    tampon = io.StringIO()
    ecrivain = csv.writer(tampon, delimiter=";", lineterminator="\r\n")
    ecrivain.writerow(ENTETES)
    for rangee in _rangees(c):
        ecrivain.writerow([f"{v:.2f}" if isinstance(v, Decimal) else v for v in rangee])
    return tampon.getvalue().encode("utf-8")


def en_xlsx(c: Circulaire, titre: str) -> bytes:
    classeur = Workbook()
    feuille = classeur.active
    assert feuille is not None
    feuille.title = titre[:31]
    feuille.append(list(ENTETES))
    for cellule in feuille[1]:
        cellule.font = Font(bold=True)
    nb_lignes = len(c.lignes)
    for i, rangee in enumerate(_rangees(c)):
        feuille.append(rangee)
        if i >= nb_lignes:
            for cellule in feuille[feuille.max_row]:
                cellule.font = Font(bold=True)
    for colonne in range(len(ENTETES) - len(MONTANTS) + 1, len(ENTETES) + 1):
        for (cellule,) in feuille.iter_rows(min_row=2, min_col=colonne, max_col=colonne):
            cellule.number_format = "#,##0.00"
    tampon = io.BytesIO()
    classeur.save(tampon)
    return tampon.getvalue()
