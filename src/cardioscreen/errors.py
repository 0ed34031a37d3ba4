"""Exceptions that carry a message meant for the user (the CLI prints them as one line)."""


class CardioScreenError(Exception):
    """Base class of every error whose message is shown to a user as is."""


class ECGFormatError(CardioScreenError, ValueError):
    """A file or array is not a valid ECG record; the message names the problem."""
