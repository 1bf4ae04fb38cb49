"""Pieces storage: bytes in an object store, metadata in the service's database (ADR 0011)."""

from hopen_common.stockage.base import (
    CleInvalide,
    ObjetEcrit,
    ObjetIntrouvable,
    ObjetListe,
    PlageInvalide,
    Stockage,
    StockageErreur,
    lire_octets,
    nouvelle_cle,
    verifier_plage,
)
from hopen_common.stockage.detection import (
    FichierVide,
    TypePiece,
    TypeRefuse,
    detecter_type,
    detecter_type_objet,
    type_du_zip,
    type_par_entete,
)
from hopen_common.stockage.fabrique import stockage_depuis_reglages, stockage_depuis_url
from hopen_common.stockage.fichiers import StockageFichiers
from hopen_common.stockage.flux import TAILLE_MAX_DEFAUT, RecepteurLimite, TailleDepassee
from hopen_common.stockage.orphelins import BilanCollecte, collecter_orphelins
from hopen_common.stockage.reception import PieceRecue, recevoir_piece
from hopen_common.stockage.s3 import StockageS3

__all__ = [
    "TAILLE_MAX_DEFAUT",
    "BilanCollecte",
    "CleInvalide",
    "FichierVide",
    "ObjetEcrit",
    "ObjetIntrouvable",
    "ObjetListe",
    "PieceRecue",
    "PlageInvalide",
    "RecepteurLimite",
    "Stockage",
    "StockageErreur",
    "StockageFichiers",
    "StockageS3",
    "TailleDepassee",
    "TypePiece",
    "TypeRefuse",
    "collecter_orphelins",
    "detecter_type",
    "detecter_type_objet",
    "lire_octets",
    "nouvelle_cle",
    "recevoir_piece",
    "stockage_depuis_reglages",
    "stockage_depuis_url",
    "type_du_zip",
    "type_par_entete",
    "verifier_plage",
]
