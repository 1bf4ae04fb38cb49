from hopen_common.auth.principal import (
    Ars,
    ArsOuDns,
    CurrentPrincipal,
    Dns,
    Etablissement,
    Expert,
    Identite,
    Ops,
    Principal,
    Profil,
    Role,
    exiger_roles,
)

__all__ = ["Ars", "ArsOuDns", "CurrentPrincipal", "Dns", "Etablissement", "Expert", "Identite", "Ops",
           "Principal", "Profil", "Role", "exiger_roles"]
