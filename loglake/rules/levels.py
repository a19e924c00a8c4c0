"""Level normalisation: the spellings applications use, folded to one canonical set."""

from __future__ import annotations

ALIASES = {
    "trace": "TRACE",
    "finest": "TRACE",
    "debug": "DEBUG",
    "dbg": "DEBUG",
    "fine": "DEBUG",
    "finer": "DEBUG",
    "verbose": "DEBUG",
    "info": "INFO",
    "information": "INFO",
    "informational": "INFO",
    "notice": "NOTICE",
    "warn": "WARN",
    "warning": "WARN",
    "err": "ERROR",
    "error": "ERROR",
    "severe": "ERROR",
    "crit": "CRITICAL",
    "critical": "CRITICAL",
    "alert": "CRITICAL",
    "fatal": "FATAL",
    "emerg": "FATAL",
    "emergency": "FATAL",
    "panic": "FATAL",
    # Single letters, as Android's logcat, glog and many Java layouts write them. `V` (verbose) is DEBUG:
    # the canonical set has nothing finer that every engine's users expect.
    "v": "DEBUG",
    "t": "TRACE",
    "d": "DEBUG",
    "i": "INFO",
    "n": "NOTICE",
    "w": "WARN",
    "e": "ERROR",
    "c": "CRITICAL",
    "f": "FATAL",
}


def normalise_level(value: str) -> str:
    """`warn`, ` Warning ` → `WARN`; unknown spellings come back upper-cased for the enum check."""
    text = value.strip()
    return ALIASES.get(text.lower(), text.upper())
