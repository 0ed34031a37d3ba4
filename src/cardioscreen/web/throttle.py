"""Sign-in throttling that cannot lock a user out from elsewhere.

Each attempt is counted before its password is checked (and committed, so that concurrent attempts see each other:
the k-th to commit counts at least k), then refused unchecked when, within ``login_window_s``:

- the same user name has failed ``login_max_failures`` times from the same client address, or that address has
  failed ``login_max_failures_per_address`` times for any names (the per-address limits);
- the account is backing off: after ``login_backoff_after`` failures of that user name from any addresses, each
  further attempt must come at least ``login_backoff_base_s * 2 ** (failures - login_backoff_after)`` seconds (at
  most the window) after the account's last attempt -- unless it comes from an address that has not failed for
  that name, which is checked anyway, so the user's right password from a new address never waits.

Refused attempts count too. The right password forgives that name's failures from that address. So guessing one
doctor's password from one address stops after 5 tries, guesses spread over many addresses slow down exponentially
(each address one try per backoff delay after its first failure), while the doctor signs in from any other address;
and guessing names from a clinic's shared address locks nobody until far more names have failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardioscreen.errors import CardioScreenError
from cardioscreen.web import crud
from cardioscreen.web.models import LoginAttempt, User
from cardioscreen.web.security import normalize_username
from cardioscreen.web.settings import WebSettings


class TooManyAttemptsError(CardioScreenError):
    """Too many failed sign-ins for this user name from this address, or from this address; password not checked."""


class WrongCredentialsError(CardioScreenError):
    """No active user has this name and password."""


def _aware(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite gives back the stored UTC times without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def account_backoff_s(db: Session, settings: WebSettings, attempt: LoginAttempt) -> float:
    """Seconds ``attempt`` is early by under its account's exponential backoff (0 when it may be checked).

    Parameters
    ----------
    attempt : LoginAttempt
        The attempt just counted; the account's other attempts within the window are its failures.
    """
    since = datetime.now(timezone.utc) - timedelta(seconds=settings.login_window_s)
    failures, last = db.execute(
        select(func.count(), func.max(LoginAttempt.created_at)).where(
            LoginAttempt.username == attempt.username, LoginAttempt.created_at >= since,
            LoginAttempt.id != attempt.id)).one()
    if failures < settings.login_backoff_after:
        return 0.0
    delay = min(settings.login_backoff_base_s * 2.0 ** (failures - settings.login_backoff_after),
                float(settings.login_window_s))
    waited = (_aware(attempt.created_at) - _aware(last)).total_seconds()
    return max(0.0, delay - waited)


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
    attempt = crud.add_login_attempt(db, username, client)
    db.commit()
    pair, address = crud.login_failures(db, username, client, settings.login_window_s)
    # An address that has not failed for this name (pair counts this attempt) is never held by the account's backoff.
    early = account_backoff_s(db, settings, attempt) if pair > 1 else 0.0
    if pair > settings.login_max_failures or address > settings.login_max_failures_per_address or early > 0:
        crud.record_event(db, "login_throttled", subject=subject, client=client,
                          detail={"failures_of_name": pair, "failures_of_address": address,
                                  "backoff_s": round(early, 1)})
        db.commit()
        raise TooManyAttemptsError("too many failed sign-ins; try again later")
    user = crud.authenticate(db, username, password)
    if user is None:
        crud.record_event(db, "login_failed", subject=subject, client=client)
        db.commit()
        raise WrongCredentialsError("wrong user name or password")
    crud.forgive_login_failures(db, username, client, settings.login_window_s)
    return user
