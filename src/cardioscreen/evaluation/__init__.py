"""Evaluation of what users see: a bundle's reported output (or its raw network) on any labelled records."""
