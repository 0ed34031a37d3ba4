"""Delineation methods (one module each) and the LUDB reference marks; the public entry is
:func:`cardioscreen.signal.delineate.ecg_delineate`."""
