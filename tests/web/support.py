"""Helpers of the web tests: a TestClient that signs in, reads CSRF tokens and uploads real records."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from httpx import Response

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse 1"


def wfdb_files(header: Path) -> list[tuple[str, tuple[str, bytes]]]:
    """Multipart ``files`` entries for a WFDB record: its ``.hea`` and ``.dat``."""
    return [("files", (p.name, p.read_bytes())) for p in (header, header.with_suffix(".dat"))]


def zeroed_files(header: Path, leads: tuple[str, ...]) -> list[tuple[str, tuple[str, bytes]]]:
    """Multipart ``files`` entries for a 12-lead format-16 WFDB record (PTB-XL) with ``leads`` set to their
    baseline (0 mV) in its ``.dat``: the quality check calls them unusable, the verdict ``warn``."""
    lines = header.read_text().splitlines()
    names = [line.split()[-1].upper() for line in lines[1:13]]
    baselines = [int(line.split()[4]) for line in lines[1:13]]
    samples = np.frombuffer(header.with_suffix(".dat").read_bytes(), dtype="<i2").reshape(-1, 12).copy()
    for lead in leads:
        column = names.index(lead.upper())
        samples[:, column] = baselines[column]
    return [("files", (header.name, header.read_bytes())),
            ("files", (header.with_suffix(".dat").name, samples.astype("<i2").tobytes()))]


def npz_bomb() -> bytes:
    """Issue 14's first attack: a NumPy ``.npz`` of under 500 KB whose ``signal.npy`` holds twelve leads of
    8,000,000 zeros float32 (the server took +3.7 GB reading it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("signal.npy", "w",
                                                                                     force_zip64=True) as member:
        header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1), np.float32)) | {"shape": (12, 8_000_000)}
        np.lib.format.write_array_header_1_0(member, header)
        zeros = bytes(2**20)
        for _ in range(12 * 8_000_000 * 4 // len(zeros)):
            member.write(zeros)
    return buffer.getvalue()


class Browser:
    """A TestClient session that behaves like a browser filling in the site's forms."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        match = CSRF_RE.search(self.client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, str], files: list | None = None, page: str = "/login",
                  ) -> Response:
        return self.client.post(path, data={"csrf_token": self.csrf(page), **data}, files=files)

    def register(self, username: str, full_name: str = "", password: str = PASSWORD) -> Response:
        return self.post_form("/register", {"username": username, "password": password, "full_name": full_name})

    def login(self, username: str, password: str = PASSWORD) -> Response:
        return self.post_form("/login", {"username": username, "password": password})

    def logout(self) -> Response:
        return self.post_form("/logout", {})

    def upload(self, files: list) -> Response:
        return self.post_form("/studies", {}, files=files, page="/studies")
