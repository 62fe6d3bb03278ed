"""Errors that reach the user as one clear line (and exit status 2), never a traceback."""

from __future__ import annotations


class ArchcalcError(Exception):
    """Base class for every mistake in user input."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        layer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.layer = layer

    def located(self, *, file=None, line=None, column=None, layer=None) -> "ArchcalcError":
        """Fill in location fields that are still unknown; returns self for chaining."""
        if self.file is None and file is not None:
            self.file = file
        if self.line is None and line is not None:
            self.line = line
            if self.column is None:
                self.column = column
        if self.layer is None and layer is not None:
            self.layer = layer
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        layer = f"layer '{self.layer}': " if self.layer else ""
        return f"{where}{layer}{self.message}"


class SpecError(ArchcalcError):
    """The spec file is malformed or describes an impossible net."""


class ShapeError(SpecError):
    """Shapes do not fit: empty outputs, joins of different shapes."""


class UsageError(ArchcalcError):
    """A command-line argument is nonsense."""
