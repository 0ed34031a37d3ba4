"""Lead names: normalisation of the many spellings in the wild, standard order, derived limb leads."""

from __future__ import annotations

import re

import numpy as np

STANDARD_LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
"""The standard 12 leads in the order every model and plot uses."""

INDEPENDENT_LEADS: tuple[str, ...] = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
"""The 8 leads from which the other four limb leads follow (Einthoven and Goldberger)."""

_ALIASES: dict[str, str] = {
    "i": "I", "di": "I", "d1": "I",
    "ii": "II", "dii": "II", "d2": "II",
    "iii": "III", "diii": "III", "d3": "III",
    "avr": "aVR", "avl": "aVL", "avf": "aVF",
}
_ALIASES.update({f"v{n}": f"V{n}" for n in range(1, 7)})
_ALIASES.update({f"c{n}": f"V{n}" for n in range(1, 7)})


def normalize_lead_name(name: str) -> str:
    """Map a lead label to its standard spelling (``"avr"`` -> ``"aVR"``, ``"Lead_II"`` -> ``"II"``).

    Labels that are not one of the 12 standard leads (``"MLII"``, ``"V5R"``, an inverted ``"-aVR"``...) are
    returned stripped but otherwise unchanged: a sign is never dropped, since it means the lead is inverted.
    """
    stripped = name.strip()
    if stripped.startswith("-"):
        return stripped
    key = re.sub(r"[\s_\-.:]", "", stripped.lower())
    if key.startswith("lead") and key[4:] in _ALIASES:
        key = key[4:]
    return _ALIASES.get(key, stripped)


def derive_limb_leads(lead_i: np.ndarray, lead_ii: np.ndarray) -> dict[str, np.ndarray]:
    """III, aVR, aVL and aVF from leads I and II (any shape, same units).

    III = II - I, aVR = -(I + II) / 2, aVL = I - II / 2, aVF = II - I / 2.
    """
    return {
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2,
        "aVL": lead_i - lead_ii / 2,
        "aVF": lead_ii - lead_i / 2,
    }
