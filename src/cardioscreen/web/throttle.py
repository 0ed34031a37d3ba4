"""Sign-in throttling that cannot lock a user out from elsewhere.

Each attempt is counted before its password is checked (and committed, so that concurrent attempts see each other:
the k-th to commit counts at least k), then refused unchecked when, within ``login_window_s``, the same user name
has failed ``login_max_failures`` times from the same client address, or that address has failed
``login_max_failures_per_address`` times for any names. Refused attempts count too. The right password forgives that
name's failures from that address. So guessing one doctor's password from one address stops after 5 tries while the
doctor signs in from any other address, and guessing names from a clinic's shared address locks nobody until far
more names have failed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cardioscreen.errors import CardioScreenError
from cardioscreen.web import crud
from cardioscreen.web.models import User
from cardioscreen.web.security import normalize_username
from cardioscreen.web.settings import WebSettings


class TooManyAttemptsError(CardioScreenError):
    """Too many failed sign-ins for this user name from this address, or from this address; password not checked."""


class WrongCredentialsError(CardioScreenError):
    """No active user has this name and password."""


def sign_in(db: Session, settings: WebSettings, username: str, password: str, client: str) -> User:
    """The user with these credentials, within the limits above; failures are written to the audit log.

    Raises
    ------
    TooManyAttemptsError
        The attempt was refused without checking the password.
    WrongCredentialsError
        The password was checked and is wrong (or the user is unknown or inactive).
    """
    subject = normalize_username(username)
    crud.add_login_attempt(db, username, client)
    db.commit()
    pair, address = crud.login_failures(db, username, client, settings.login_window_s)
    if pair > settings.login_max_failures or address > settings.login_max_failures_per_address:
        crud.record_event(db, "login_throttled", subject=subject, client=client,
                          detail={"failures_of_name": pair, "failures_of_address": address})
        db.commit()
        raise TooManyAttemptsError("too many failed sign-ins; try again later")
    user = crud.authenticate(db, username, password)
    if user is None:
        crud.record_event(db, "login_failed", subject=subject, client=client)
        db.commit()
        raise WrongCredentialsError("wrong user name or password")
    crud.forgive_login_failures(db, username, client, settings.login_window_s)
    return user
