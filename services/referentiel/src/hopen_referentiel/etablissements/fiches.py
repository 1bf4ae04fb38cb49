"""The published view of each FINESS (EJ and EG): identity, links, secteur, région, GHT, AC,
staff, and per dispositif (phase 1, HospiConnect, AAP) the eligibility with its reasons, the
FINESS PMSI and the maille. Pure: no I/O.

The referentiel stores what the sources say (entities, establishments, GHT membership,
activity, staff, SUN-ES domains, AP-HP GHU, FINESS PMSI exceptions); everything else is derived
here, from those facts and the programme's tables, so that one recomputation after any import
gives every consumer the same answer. A fiche is what other services receive
(EtablissementPublie) and what the API shows.

Computation is per EJ (an EJ and its EG): an import recomputes only the EJ its changes touch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from hopen_referentiel.etablissements.rules import (
    CODES_DISPOSITIF,
    LIBELLES_REGLES,
    CriteresEligibilitePhase1,
    Dispositif,
    Etablissement,
    FinessPmsi,
    Maille,
    NiveauFiness,
    Repechage,
    ResultatRegle,
    RoleGht,
    Secteur,
    TableGeographique,
    TypeMaille,
    Verdict,
    agregats_ouverts,
    eligibilite,
    est_structure_dialyse,
    finess_pmsi,
    finess_pmsi_phase2,
    maille_aap,
    maille_candidature_phase1,
    maille_hospiconnect,
    region_du_departement,
)

# HospiConnect staff: the latest of these years that is filled in, per EG (domain 2.4).
ANNEES_EFFECTIFS = (2024, 2023, 2022)
CAMPAGNE_PHASE1 = 2022
CAMPAGNE_PHASE2 = 2024


@dataclass(frozen=True)
class EntiteJuridique:
    finess: str
    raison_sociale: str
    statut_juridique: str
    departement: str
    ferme: bool = False


@dataclass(frozen=True)
class Parc:
    """Every fact the sources gave about some EJ, as plain values. `etablissements` carry their
    EJ's statut and their GHT membership; activity and staff are keyed as the sources key them."""

    entites: Mapping[str, EntiteJuridique]
    etablissements: Sequence[Etablissement]
    activites_2022: Mapping[str, Decimal]  # FINESS PMSI -> activité combinée 2022
    effectifs: Mapping[str, Mapping[int, int]]  # FINESS EG -> year -> SAE staff
    domaines_sun_es: Mapping[str, frozenset[str]]  # FINESS PMSI -> SUN-ES domains reached
    activites_2024: Mapping[str, Decimal] = field(default_factory=dict)
    ghu: Mapping[str, str] = field(default_factory=dict)  # AP-HP FINESS EG -> FINESS of its GHU
    # Imported exceptions (FINESS EJ -> level); they win over the programme's data file.
    exceptions_pmsi: Mapping[str, NiveauFiness] = field(default_factory=dict)
    # GHT membership of the EJ (also those without EG) and every GHT's support, including
    # supports outside the EJ being computed.
    membres_ght: Mapping[str, tuple[str, RoleGht]] = field(default_factory=dict)
    supports_ght: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tables:
    secteurs: Mapping[str, Secteur]
    geo: TableGeographique
    criteres_phase1: CriteresEligibilitePhase1
    categories_dialyse: frozenset[str]
    exceptions_pmsi: Mapping[str, NiveauFiness]
    # The HOP'EN sanitary catégories (data/finess/hopen_categories_sanitaires.csv): an EJ with
    # none of them can be eligible to no dispositif (criterion 4 lists 25 of them).
    categories_sanitaires: frozenset[str] = frozenset()


def dans_le_perimetre(
    statut_juridique: str, categories: Iterable[str], tables: Tables
) -> bool:
    """The programme's establishments: an EJ whose statut is in a secteur of the programme and
    which has at least one EG of a sanitary catégorie. Their fiches (EJ and every EG) are
    computed after each import, listed by the API and published; other FINESS records are kept
    as facts and their fiche is computed when asked for (ADR 0030)."""
    return statut_juridique in tables.secteurs and any(c in tables.categories_sanitaires for c in categories)


@dataclass(frozen=True)
class VueDispositif:
    verdict: Verdict
    finess_pmsi: str | None  # None: each EG has its own (private EJ), or no secteur
    niveau_pmsi: NiveauFiness | None
    maille: Maille | None  # None: each EG (or GHU) applies on its own
    activite_combinee: Decimal | None  # of the FINESS PMSI, for the dispositif's campaign
    eligible_via: str | None = None  # an EJ eligible through this EG

    @property
    def eligible(self) -> bool:
        return self.verdict.eligible


@dataclass(frozen=True)
class Fiche:
    finess: str
    niveau: NiveauFiness
    finess_ej: str
    raison_sociale: str
    departement: str
    region: str
    secteur: Secteur | None  # None: statut juridique outside the programme (not published)
    statut_juridique: str
    categorie: str | None
    agregat_categorie: str | None
    ght_code: str | None
    ght_role: RoleGht | None
    ght_support: str | None
    effectifs: int
    domaines_sun_es: tuple[str, ...]
    ferme: bool
    dispositifs: Mapping[Dispositif, VueDispositif]
    # EJ: its EG; EG: its EJ.
    liens: tuple[str, ...] = ()
    ghu: str | None = None  # AP-HP EG: FINESS of its GHU
    dans_le_perimetre: bool = True  # see `dans_le_perimetre()`: listed and published

    # Phase-1 shortcuts: the fields EtablissementPublie carried first.
    @property
    def phase1(self) -> VueDispositif:
        return self.dispositifs[Dispositif.PHASE1]

    @property
    def eligibilite_phase1(self) -> Verdict:
        return self.phase1.verdict

    @property
    def eligible_phase1(self) -> bool:
        return self.phase1.eligible

    @property
    def finess_pmsi(self) -> str | None:
        return self.phase1.finess_pmsi

    @property
    def niveau_pmsi(self) -> NiveauFiness | None:
        return self.phase1.niveau_pmsi

    @property
    def activite_combinee(self) -> Decimal | None:
        return self.phase1.activite_combinee

    @property
    def maille_phase1(self) -> str | None:
        return self.phase1.maille.finess if self.phase1.maille else None

    @property
    def type_maille_phase1(self) -> TypeMaille | None:
        return self.phase1.maille.type if self.phase1.maille else None

    @property
    def eligible_via(self) -> str | None:
        return self.phase1.eligible_via


def effectif_retenu(par_annee: Mapping[int, int] | None) -> int:
    """Staff of one EG: 2024 when filled in, else 2023, else 2022, else 0 (domain 2.4)."""
    for annee in ANNEES_EFFECTIFS:
        if par_annee and annee in par_annee:
            return par_annee[annee]
    return 0


def _verdict_entite(
    dispositif: Dispositif, entite: EntiteJuridique, verdicts: Sequence[tuple[str, Verdict]],
    secteur_ej: Secteur | None = None,
) -> tuple[Verdict, str | None]:
    """An EJ is eligible when it is open and one of its EG is: the reasons shown are that EG's
    (the first eligible one, else the one failing the fewest rules), plus the EJ's own opening."""
    codes = CODES_DISPOSITIF[dispositif]
    ouverte = ResultatRegle(
        codes.ouvert,
        "Autorisation en cours (fiche FINESS ouverte)",
        f"entite juridique {entite.finess} " + ("fermee" if entite.ferme else "ouverte"),
    )
    if not verdicts:
        absente = ResultatRegle(
            codes.categorie,
            "Categorie du FINESS geographique dans la liste",
            "aucun etablissement geographique connu",
        )
        secteur = ResultatRegle(
            codes.secteur, LIBELLES_REGLES[codes.secteur],
            f"statut juridique {entite.statut_juridique} : "
            + (secteur_ej.value if secteur_ej else "hors des secteurs du programme"),
        )
        regles = ((secteur, secteur_ej is not None), (ouverte, not entite.ferme))
        echecs = (*(r for r, ok in regles if not ok), absente)
        return Verdict(tuple(r for r, ok in regles if ok), echecs), None
    premier = next((fv for fv in verdicts if not fv[1].non_satisfaites), None)
    via, choisi = premier or min(verdicts, key=lambda fv: len(fv[1].non_satisfaites))
    autres = tuple(r for r in choisi.satisfaites if r.code is not codes.ouvert)
    echecs = tuple(r for r in choisi.non_satisfaites if r.code is not codes.ouvert)
    ok_ouvert = not entite.ferme and all(r.code is not codes.ouvert for r in choisi.non_satisfaites)
    if ok_ouvert:
        return Verdict((ouverte, *autres), echecs), via
    return Verdict(autres, (ouverte, *echecs)), via


@dataclass
class _Contexte:
    """What the EG of one EJ share while their fiches are computed."""

    entite: EntiteJuridique
    egs: list[Etablissement]
    secteur: Secteur | None
    dialyse: bool
    exceptions: Mapping[str, NiveauFiness]
    effectifs_eg: dict[str, int]
    effectifs_ej: int
    effectifs_ghu: dict[str, int]
    agregats: frozenset[str]
    perimetre: bool


def _fiches_ej(parc: Parc, tables: Tables, ctx: _Contexte) -> list[Fiche]:
    entite, egs, secteur_ej = ctx.entite, ctx.egs, ctx.secteur
    finess_ej = entite.finess
    membre = parc.membres_ght.get(finess_ej)
    ght_code, ght_role = (membre[0], membre[1]) if membre else (None, None)
    support = parc.supports_ght.get(ght_code) if ght_code else None
    criteres = tables.criteres_phase1
    verdicts: dict[Dispositif, list[tuple[str, Verdict]]] = {d: [] for d in Dispositif}
    fiches_eg: list[Fiche] = []
    region_ej = region_du_departement(entite.departement, tables.geo).code

    for etab in egs:
        vues: dict[Dispositif, VueDispositif] = {}
        ghu = parc.ghu.get(etab.finess_eg)
        if secteur_ej is None:
            for d in Dispositif:
                verdict = eligibilite(d, etab, secteur_ej=None, activite_combinee=None, criteres=criteres,
                                      agregats_ej=ctx.agregats)
                vues[d] = VueDispositif(verdict, None, None, None, None)
        else:
            p1 = finess_pmsi(etab, secteur_ej=secteur_ej, structure_dialyse=ctx.dialyse,
                             exceptions=ctx.exceptions)
            ac1 = parc.activites_2022.get(p1.finess)
            v1 = eligibilite(Dispositif.PHASE1, etab, secteur_ej=secteur_ej, activite_combinee=ac1,
                             criteres=criteres, agregats_ej=ctx.agregats)
            m1 = maille_candidature_phase1(p1, secteur_ej=secteur_ej, ght_code=ght_code,
                                           supports_ght=parc.supports_ght)
            vues[Dispositif.PHASE1] = VueDispositif(v1, p1.finess, p1.niveau, m1, ac1)

            p2 = finess_pmsi_phase2(etab, secteur_ej=secteur_ej, structure_dialyse=ctx.dialyse,
                                    exceptions=ctx.exceptions, ghu=parc.ghu)
            effectifs_p2 = _effectifs_pmsi(p2, etab, ctx)
            ac_hc = parc.activites_2024.get(p2.finess)
            v_hc = eligibilite(Dispositif.HOSPICONNECT, etab, secteur_ej=secteur_ej, activite_combinee=ac_hc,
                               criteres=criteres, repechage=Repechage(v1.eligible, effectifs_p2),
                               agregats_ej=ctx.agregats)
            m_hc = maille_hospiconnect(etab, secteur_ej=secteur_ej, supports_ght=parc.supports_ght,
                                       ghu=parc.ghu)
            vues[Dispositif.HOSPICONNECT] = VueDispositif(v_hc, p2.finess, p2.niveau, m_hc, ac_hc)

            ac_aap = parc.activites_2022.get(p2.finess)
            v_aap = eligibilite(Dispositif.AAP, etab, secteur_ej=secteur_ej, activite_combinee=ac_aap,
                                criteres=criteres, agregats_ej=ctx.agregats)
            vues[Dispositif.AAP] = VueDispositif(v_aap, p2.finess, p2.niveau,
                                                 maille_aap(p2, ghu=ghu is not None), ac_aap)
        for d, vue in vues.items():
            verdicts[d].append((etab.finess_eg, vue.verdict))
        pmsi_p1 = vues[Dispositif.PHASE1].finess_pmsi
        # An AP-HP GHU is known by its FINESS geographique: that EG's fiche shows the GHU's staff.
        effectifs = ctx.effectifs_ghu.get(etab.finess_eg, ctx.effectifs_eg[etab.finess_eg])
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
                ght_code=ght_code,
                ght_role=ght_role,
                ght_support=support,
                effectifs=effectifs,
                domaines_sun_es=tuple(sorted(parc.domaines_sun_es.get(pmsi_p1, ()))) if pmsi_p1 else (),
                ferme=etab.ferme or entite.ferme,
                dispositifs=vues,
                liens=(finess_ej,),
                ghu=ghu,
                dans_le_perimetre=ctx.perimetre,
            )
        )

    vues_ej: dict[Dispositif, VueDispositif] = {}
    premier = egs[0] if egs else None
    aphp = any(e.finess_eg in parc.ghu for e in egs)
    for d in Dispositif:
        verdict, via = _verdict_entite(d, entite, verdicts[d], secteur_ej)
        via = via if verdict.eligible and via != finess_ej else None
        if secteur_ej is None:
            vues_ej[d] = VueDispositif(verdict, None, None, None, None, via)
            continue
        niveau = NiveauFiness.EJ
        if premier is not None:
            niveau = finess_pmsi(premier, secteur_ej=secteur_ej, structure_dialyse=ctx.dialyse,
                                 exceptions=ctx.exceptions).niveau
        pmsi = finess_ej if niveau is NiveauFiness.EJ else None
        campagne = parc.activites_2024 if d is Dispositif.HOSPICONNECT else parc.activites_2022
        ac = campagne.get(finess_ej) if pmsi else None
        maille: Maille | None
        if d is Dispositif.PHASE1:
            if niveau is NiveauFiness.EG:
                maille = None  # private EG apply one by one: the EJ itself is not an applicant
            elif premier is not None:
                # The rule its EG fiches follow, on the same FINESS PMSI (the EJ's): they agree.
                maille = maille_candidature_phase1(FinessPmsi(niveau, finess_ej), secteur_ej=secteur_ej,
                                                   ght_code=ght_code, supports_ght=parc.supports_ght)
            else:
                maille = _maille_sans_eg(secteur_ej, finess_ej, ght_code, support)
        elif aphp:
            maille, pmsi, ac = None, None, None  # AP-HP: each GHU applies (phase 2)
        elif d is Dispositif.HOSPICONNECT:
            maille = _maille_sans_eg(secteur_ej, finess_ej, ght_code, support)
        else:
            maille = maille_aap(FinessPmsi(niveau, finess_ej), ghu=False) if pmsi else None
        vues_ej[d] = VueDispositif(verdict, pmsi, niveau, maille, ac, via)

    fiche_ej = Fiche(
        finess=finess_ej,
        niveau=NiveauFiness.EJ,
        finess_ej=finess_ej,
        raison_sociale=entite.raison_sociale,
        departement=entite.departement,
        region=region_ej,
        secteur=secteur_ej,
        statut_juridique=entite.statut_juridique,
        categorie=None,
        agregat_categorie=None,
        ght_code=ght_code,
        ght_role=ght_role,
        ght_support=support,
        effectifs=ctx.effectifs_ej,
        domaines_sun_es=tuple(sorted(parc.domaines_sun_es.get(finess_ej, ()))),
        ferme=entite.ferme,
        dispositifs=vues_ej,
        liens=tuple(sorted(e.finess_eg for e in egs)),
        dans_le_perimetre=ctx.perimetre,
    )
    return [fiche_ej, *fiches_eg]


def _maille_sans_eg(secteur_ej: Secteur, finess_ej: str, ght_code: str | None, support: str | None) -> Maille:
    """The EJ applies for itself, or through its GHT's support when public and a member."""
    if secteur_ej is Secteur.PUBLIC and ght_code is not None and support is not None:
        return Maille(TypeMaille.GHT, support, ght_code)
    return Maille(TypeMaille.EJ, finess_ej)


def _effectifs_pmsi(pmsi: FinessPmsi, etab: Etablissement, ctx: _Contexte) -> int:
    """Staff of the entity a phase-2 FINESS PMSI stands for: the EJ, the GHU or the EG."""
    if pmsi.finess == etab.finess_ej:
        return ctx.effectifs_ej
    if pmsi.finess in ctx.effectifs_ghu:
        return ctx.effectifs_ghu[pmsi.finess]
    return ctx.effectifs_eg[etab.finess_eg]


def calculer_fiches(parc: Parc, tables: Tables, *, hors_perimetre: bool = True) -> list[Fiche]:
    """The EJ and EG fiches of the parc (`hors_perimetre=False`: only those of the programme's
    perimeter). Raises ErreurReferentiel on data that contradict the rules (unknown
    département, GHT without support): an import refuses such a record before it gets here."""
    par_ej: dict[str, list[Etablissement]] = defaultdict(list)
    for etab in parc.etablissements:
        par_ej[etab.finess_ej].append(etab)
    exceptions = {**tables.exceptions_pmsi, **parc.exceptions_pmsi}
    effectifs_eg = {
        e.finess_eg: effectif_retenu(parc.effectifs.get(e.finess_eg)) for e in parc.etablissements
    }
    effectifs_ghu: dict[str, int] = defaultdict(int)
    for finess_eg, finess_ghu in parc.ghu.items():
        effectifs_ghu[finess_ghu] += effectifs_eg.get(finess_eg, 0)
    # Membership may come on the EG only (tests, demo rows): the EJ's then follows its EG's.
    membres = dict(parc.membres_ght) or {
        e.finess_ej: (e.ght_code, e.ght_role) for e in parc.etablissements if e.ght_code and e.ght_role
    }
    parc = replace(parc, membres_ght=membres, supports_ght={**supports_de(membres), **parc.supports_ght})
    fiches: list[Fiche] = []
    for finess_ej, entite in sorted(parc.entites.items()):
        egs = par_ej.get(finess_ej, [])
        perimetre = dans_le_perimetre(entite.statut_juridique, (e.categorie for e in egs), tables)
        if not perimetre and not hors_perimetre:
            continue
        ctx = _Contexte(
            entite=entite,
            egs=egs,
            secteur=tables.secteurs.get(entite.statut_juridique),
            dialyse=est_structure_dialyse(egs, tables.categories_dialyse),
            exceptions=exceptions,
            effectifs_eg=effectifs_eg,
            effectifs_ej=sum(effectifs_eg[e.finess_eg] for e in egs),
            effectifs_ghu=effectifs_ghu,
            agregats=agregats_ouverts(egs),
            perimetre=perimetre,
        )
        fiches.extend(_fiches_ej(parc, tables, ctx))
    return fiches


def avec_ght(
    etablissements: Iterable[Etablissement], membres: Mapping[str, tuple[str, RoleGht]]
) -> list[Etablissement]:
    """Attach GHT membership (FINESS EJ -> (GHT code, role)) to each EG of a member EJ."""
    resultat = []
    for etab in etablissements:
        membre = membres.get(etab.finess_ej)
        resultat.append(
            replace(etab, ght_code=membre[0] if membre else None, ght_role=membre[1] if membre else None)
        )
    return resultat


def supports_de(membres: Mapping[str, tuple[str, RoleGht]]) -> dict[str, str]:
    """GHT code -> FINESS of its support, from a membership table."""
    return {code: finess for finess, (code, role) in membres.items() if role is RoleGht.SUPPORT}
