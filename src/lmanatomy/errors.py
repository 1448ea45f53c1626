"""Error types.

Every error the pipeline raises on bad input says *which* key, file or value is wrong, so that a
user reading a Snakemake log can fix it without reading code.
"""


class LmAnatomyError(Exception):
    """Base class of all errors raised by lm-anatomy on bad input or bad state."""


class ConfigError(LmAnatomyError):
    """A config value is wrong; the message names the key and the value."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"config key '{key}': {message}")


class RegistryError(LmAnatomyError):
    """A model registry entry is malformed or a model name is unknown."""


class DataError(LmAnatomyError):
    """A data file is missing, malformed or fails its checksum; the message names the file."""


class StoreError(LmAnatomyError):
    """An activation store is incomplete, corrupt or does not match its manifest."""


class NumericalError(LmAnatomyError):
    """NaN or inf appeared where a finite number is required."""


class ExtractError(LmAnatomyError):
    """A probe cannot be applied to a model, tokenizer or text (no EOS token, a module that never
    ran, a text without tokens); the message names the probe, module or row."""
