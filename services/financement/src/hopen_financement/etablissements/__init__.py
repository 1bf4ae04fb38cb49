"""Financement's local copy of the referentiel (AC, eligibility, staff), fed by EtablissementPublie."""
