"""A guard over every log line of the whole test run: no e-mail address, phone or id number.

The suite's fixtures and tests send thousands of requests full of PII (e-mails, NRICs,
passports, mobiles, names). This plugin formats every log record emitted during the run
exactly as production does (the JSON formatter with the request context) and, at the end,
fails the run if any formatted line still contains something that looks like an e-mail
address or a Singapore NRIC/FIN — the shapes the test data uses. It is loaded by
tests/conftest.py.
"""

from __future__ import annotations

import logging
import re

import pytest

from core.logging import JsonFormatter, RequestContextFilter

# What test data looks like: e-mails (ada12@example.com) and NRIC/FIN numbers (S1234567D).
PII_PATTERNS = (
    re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
    re.compile(r"\b[STFGM][0-9]{7}[A-Z]\b"),
)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())
        self.leaks: list[str] = []
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted is not a leak
            return
        self.lines += 1
        if any(pattern.search(line) for pattern in PII_PATTERNS) and len(self.leaks) < 20:
            self.leaks.append(line)


_collector = _Collector()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(_collector)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_collector)
    if _collector.leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "PII in log output", red=True)
            for line in _collector.leaks:
                reporter.write_line(line[:500])
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if _collector.lines and not _collector.leaks:
        terminalreporter.write_line(
            f"log guard: {_collector.lines} log lines checked, no e-mail or id number in any"
        )
