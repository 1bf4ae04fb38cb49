"""The published view of each FINESS (EJ and EG): identity, links, secteur, région, GHT, AC,
staff, phase-1 FINESS PMSI, eligibility with its reasons, and maille. Pure: no I/O.

The referentiel stores what the sources say (entities, establishments, GHT membership,
activity, staff, SUN-ES domains); everything else is derived here, from those facts and the
programme's tables, so that one recomputation after any import gives every consumer the same
answer. A fiche is what other services receive (EtablissementPublie) and what the API shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from hopen_referentiel.etablissements.rules import (
    CodeRegle,
    CriteresEligibilitePhase1,
    Etablissement,
    NiveauFiness,
    ResultatRegle,
    RoleGht,
    Secteur,
    TableGeographique,
    TypeMaille,
    Verdict,
    eligibilite_phase1,
    est_structure_dialyse,
    finess_pmsi,
    maille_candidature_phase1,
    region_du_departement,
    secteur,
    supports_des_ght,
)

# HospiConnect staff: the latest of these years that is filled in, per EG (domain 2.4).
ANNEES_EFFECTIFS = (2024, 2023, 2022)


@dataclass(frozen=True)
class EntiteJuridique:
    finess: str
    raison_sociale: str
    statut_juridique: str
    departement: str
    ferme: bool = False


@dataclass(frozen=True)
class Parc:
    """Every fact the sources gave, as plain values. `etablissements` carry their EJ's statut
    and their GHT membership; activity and staff are given apart, keyed as the sources key them."""

    entites: Mapping[str, EntiteJuridique]
    etablissements: Sequence[Etablissement]
    activites_2022: Mapping[str, Decimal]  # FINESS PMSI -> activité combinée 2022
    effectifs: Mapping[str, Mapping[int, int]]  # FINESS EG -> year -> SAE staff
    domaines_sun_es: Mapping[str, frozenset[str]]  # FINESS PMSI -> SUN-ES domains reached


@dataclass(frozen=True)
class Tables:
    secteurs: Mapping[str, Secteur]
    geo: TableGeographique
    criteres_phase1: CriteresEligibilitePhase1
    categories_dialyse: frozenset[str]
    exceptions_pmsi: Mapping[str, NiveauFiness]


@dataclass(frozen=True)
class Fiche:
    finess: str
    niveau: NiveauFiness
    finess_ej: str
    raison_sociale: str
    departement: str
    region: str
    secteur: Secteur
    statut_juridique: str
    categorie: str | None
    agregat_categorie: str | None
    ght_code: str | None
    ght_role: RoleGht | None
    finess_pmsi: str
    niveau_pmsi: NiveauFiness
    activite_combinee: Decimal | None
    effectifs: int
    domaines_sun_es: tuple[str, ...]
    ferme: bool
    eligibilite_phase1: Verdict
    maille_phase1: str | None
    type_maille_phase1: TypeMaille | None
    # EJ: its EG; EG: its EJ.
    liens: tuple[str, ...] = field(default=())
    # EJ whose eligibility comes from one of its EG: which one.
    eligible_via: str | None = None

    @property
    def eligible_phase1(self) -> bool:
        return self.eligibilite_phase1.eligible


def effectif_retenu(par_annee: Mapping[int, int] | None) -> int:
    """Staff of one EG: 2024 when filled in, else 2023, else 2022, else 0 (domain 2.4)."""
    for annee in ANNEES_EFFECTIFS:
        if par_annee and annee in par_annee:
            return par_annee[annee]
    return 0


def _verdict_entite(
    entite: EntiteJuridique, verdicts: Sequence[tuple[str, Verdict]]
) -> tuple[Verdict, str | None]:
    """An EJ is eligible when it is open and one of its EG is: the reasons shown are that EG's
    (the first eligible one, else the one failing the fewest rules), plus the EJ's own opening."""
    ouverte = ResultatRegle(
        CodeRegle.OUVERT,
        "Autorisation en cours (fiche FINESS ouverte)",
        f"entite juridique {entite.finess} " + ("fermee" if entite.ferme else "ouverte"),
    )
    if not verdicts:
        absente = ResultatRegle(
            CodeRegle.CATEGORIE_EG,
            "Categorie du FINESS geographique dans la liste",
            "aucun etablissement geographique connu",
        )
        return Verdict((), (absente,)), None
    eligibles = [(f, v) for f, v in verdicts if v.eligible]
    via, choisi = eligibles[0] if eligibles else min(verdicts, key=lambda fv: len(fv[1].non_satisfaites))
    autres = tuple(r for r in choisi.satisfaites if r.code is not CodeRegle.OUVERT)
    echecs = tuple(r for r in choisi.non_satisfaites if r.code is not CodeRegle.OUVERT)
    ouvert_eg = next(
        (r for r in (*choisi.satisfaites, *choisi.non_satisfaites) if r.code is CodeRegle.OUVERT), None
    )
    ok_ouvert = not entite.ferme and (ouvert_eg is None or ouvert_eg in choisi.satisfaites)
    if ok_ouvert:
        return Verdict((ouverte, *autres), echecs), via
    return Verdict(autres, (ouverte, *echecs)), via


def calculer_fiches(parc: Parc, tables: Tables) -> list[Fiche]:
    """Every EJ and EG fiche of the parc. Raises ErreurReferentiel on data that contradict
    the rules (unknown statut, unknown département, GHT without support): an import refuses
    such a record before it gets here."""
    par_ej: dict[str, list[Etablissement]] = defaultdict(list)
    for etab in parc.etablissements:
        par_ej[etab.finess_ej].append(etab)
    supports = supports_des_ght(parc.etablissements)
    fiches: list[Fiche] = []

    for finess_ej, entite in sorted(parc.entites.items()):
        egs = par_ej.get(finess_ej, [])
        secteur_ej = secteur(entite.statut_juridique, tables.secteurs)
        dialyse = est_structure_dialyse(egs, tables.categories_dialyse)
        verdicts: list[tuple[str, Verdict]] = []
        fiches_eg: list[Fiche] = []
        for etab in egs:
            pmsi = finess_pmsi(
                etab, secteur_ej=secteur_ej, structure_dialyse=dialyse, exceptions=tables.exceptions_pmsi
            )
            ac = parc.activites_2022.get(pmsi.finess)
            verdict = eligibilite_phase1(
                etab, etablissements_de_l_ej=egs, activite_combinee_2022=ac, criteres=tables.criteres_phase1
            )
            verdicts.append((etab.finess_eg, verdict))
            maille = maille_candidature_phase1(
                etab, secteur_ej=secteur_ej, structure_dialyse=dialyse, supports_ght=supports
            )
            fiches_eg.append(
                Fiche(
                    finess=etab.finess_eg,
                    niveau=NiveauFiness.EG,
                    finess_ej=finess_ej,
                    raison_sociale=etab.raison_sociale,
                    departement=etab.departement,
                    region=region_du_departement(etab.departement, tables.geo).code,
                    secteur=secteur_ej,
                    statut_juridique=entite.statut_juridique,
                    categorie=etab.categorie,
                    agregat_categorie=etab.agregat_categorie,
                    ght_code=etab.ght_code,
                    ght_role=etab.ght_role,
                    finess_pmsi=pmsi.finess,
                    niveau_pmsi=pmsi.niveau,
                    activite_combinee=ac,
                    effectifs=effectif_retenu(parc.effectifs.get(etab.finess_eg)),
                    domaines_sun_es=tuple(sorted(parc.domaines_sun_es.get(pmsi.finess, ()))),
                    ferme=etab.ferme or entite.ferme,
                    eligibilite_phase1=verdict,
                    maille_phase1=maille.finess,
                    type_maille_phase1=maille.type,
                    liens=(finess_ej,),
                )
            )

        verdict_ej, via = _verdict_entite(entite, verdicts)
        premier = egs[0] if egs else None
        niveau_pmsi = NiveauFiness.EJ
        if premier is not None:
            niveau_pmsi = finess_pmsi(
                premier, secteur_ej=secteur_ej, structure_dialyse=dialyse, exceptions=tables.exceptions_pmsi
            ).niveau
        ght_code = premier.ght_code if premier else None
        ght_role = premier.ght_role if premier else None
        maille_ej: str | None
        type_maille_ej: TypeMaille | None
        if niveau_pmsi is NiveauFiness.EG:
            # Private EG apply one by one: the EJ itself is not a phase-1 applicant.
            maille_ej, type_maille_ej = None, None
        elif premier is not None:
            m = maille_candidature_phase1(
                premier, secteur_ej=secteur_ej, structure_dialyse=dialyse, supports_ght=supports
            )
            maille_ej, type_maille_ej = m.finess, m.type
        else:
            maille_ej, type_maille_ej = finess_ej, TypeMaille.EJ
        ac_ej = parc.activites_2022.get(finess_ej) if niveau_pmsi is NiveauFiness.EJ else None
        fiches.append(
            Fiche(
                finess=finess_ej,
                niveau=NiveauFiness.EJ,
                finess_ej=finess_ej,
                raison_sociale=entite.raison_sociale,
                departement=entite.departement,
                region=region_du_departement(entite.departement, tables.geo).code,
                secteur=secteur_ej,
                statut_juridique=entite.statut_juridique,
                categorie=None,
                agregat_categorie=None,
                ght_code=ght_code,
                ght_role=ght_role,
                # A private EJ has no PMSI identity of its own (niveau_pmsi EG: each EG carries it).
                finess_pmsi=finess_ej,
                niveau_pmsi=niveau_pmsi,
                activite_combinee=ac_ej,
                effectifs=sum(effectif_retenu(parc.effectifs.get(e.finess_eg)) for e in egs),
                domaines_sun_es=tuple(sorted(parc.domaines_sun_es.get(finess_ej, ()))),
                ferme=entite.ferme,
                eligibilite_phase1=verdict_ej,
                maille_phase1=maille_ej,
                type_maille_phase1=type_maille_ej,
                liens=tuple(sorted(e.finess_eg for e in egs)),
                eligible_via=via if verdict_ej.eligible and via != finess_ej else None,
            )
        )
        fiches.extend(fiches_eg)
    return fiches


def avec_ght(
    etablissements: Sequence[Etablissement], membres: Mapping[str, tuple[str, RoleGht]]
) -> list[Etablissement]:
    """Attach GHT membership (FINESS EJ -> (GHT code, role)) to each EG of a member EJ."""
    resultat = []
    for etab in etablissements:
        membre = membres.get(etab.finess_ej)
        resultat.append(
            replace(etab, ght_code=membre[0] if membre else None, ght_role=membre[1] if membre else None)
        )
    return resultat
