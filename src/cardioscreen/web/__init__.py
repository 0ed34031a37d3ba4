"""The clinic web application (FastAPI): patients upload ECGs, doctors triage and conclude."""
