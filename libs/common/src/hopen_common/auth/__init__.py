from hopen_common.auth.principal import (
    CurrentPrincipal,
    Principal,
    Role,
    exiger_roles,
)

__all__ = ["CurrentPrincipal", "Principal", "Role", "exiger_roles"]
