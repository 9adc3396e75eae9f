"""Domain errors: library code raises them; the CLI maps them to exit codes, pages to st.error."""


class ReviewdeckError(Exception):
    """Base of every error reviewdeck raises on purpose; its message says what to do next."""


class ConfigError(ReviewdeckError):
    """A setting (env var, flag, secrets entry) has a value we cannot use."""


class WarehouseBusy(ReviewdeckError):
    """Another process kept the warehouse file locked for longer than we were willing to wait."""


class WarehouseError(ReviewdeckError):
    """The warehouse file is missing, unreadable or of a newer schema than this code knows."""


class InputError(ReviewdeckError):
    """An input file cannot be read at all (as opposed to a bad line, which becomes a reject)."""
