"""How a controlled run can stop short (a module of its own: a free run imports only this)."""

from __future__ import annotations


class Unfinished(Exception):
    """A controlled run stopped choosing before its actors ended: why (blocked, depth…)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome
