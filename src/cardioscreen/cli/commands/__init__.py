"""Subcommands of ``cardioscreen``, discovered automatically: one module each, with ``add_parser``."""
