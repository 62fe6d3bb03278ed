"""Spec reading: YAML through a safe loader with source positions (loader), the whitelisted
expression evaluator (expr), shapes (shapes), the validated top level (document), and bundled
names resolved to files (bundled)."""

from .document import SpecDocument, read_document
from .shapes import MAX_DIM, parse_cli_shape, parse_shape

__all__ = ["MAX_DIM", "SpecDocument", "parse_cli_shape", "parse_shape", "read_document"]
