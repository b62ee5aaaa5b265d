"""The root of every error the hub raises: each one says which record or field, and why."""


class HubError(Exception):
    """An error the user can act on; its message says what went wrong and what to do."""


class ContractError(HubError):
    """Input that does not meet the contract (schema, place file, mapping)."""


class PlaceError(ContractError):
    """The place file is unreadable or inconsistent."""
