from hopen_common.auth.principal import (
    CurrentPrincipal,
    Identite,
    Principal,
    Profil,
    Role,
    exiger_roles,
)

__all__ = ["CurrentPrincipal", "Identite", "Principal", "Profil", "Role", "exiger_roles"]
