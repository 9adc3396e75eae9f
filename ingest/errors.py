"""Domain errors. Library code raises these; only the CLI maps them to exit codes and only pages to st.error."""


class ReviewdeckError(Exception):
    """Base of every error reviewdeck raises on purpose; its message says what to do next."""


class ConfigError(ReviewdeckError):
    """A setting (env var, flag, secrets entry) has a value we cannot use."""


class WarehouseBusy(ReviewdeckError):
    """The warehouse file stayed locked by another process for longer than we were willing to wait."""


class WarehouseError(ReviewdeckError):
    """The warehouse file is missing, unreadable or of a newer schema than this code knows."""


class InputError(ReviewdeckError):
    """An input file cannot be read at all (as opposed to a bad line, which becomes a reject)."""
