"""SVG snapshots of the main screen, rendered from recorded runs (never live timing)."""

from __future__ import annotations

from tui_conc.session import ReplayRun
from tui_conc.ui.app import TuiConcApp, make_app
from tui_conc.ui.widgets.scenario_tree import ScenarioTree

from .conftest import TRACES


def replaying(stem: str, upto: int | None = None) -> TuiConcApp:
    """The app as users get it, but its runs replay a recorded trace."""
    return make_app(
        source_factory=lambda entry, overrides, backend: ReplayRun(TRACES / f"{stem}.trace", upto)
    )


def choose(stem: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        entry = next(e for e in app.entries if e.path.stem == stem)
        app.query_one(ScenarioTree).select_entry(entry)
        await pilot.pause()

    return run_before


class TestMainScreen:
    def test_scenario_list_and_explanation(self, snap_compare) -> None:
        assert snap_compare(
            replaying("deadlock_mutex"),
            run_before=choose("deadlock_mutex"),
            terminal_size=(100, 32),
        )

    def test_producer_consumer_running(self, snap_compare) -> None:
        assert snap_compare(
            replaying("producer_consumer", upto=70),
            run_before=choose("producer_consumer"),
            press=["r"],
            terminal_size=(100, 32),
        )

    def test_deadlock_detected_80x24(self, snap_compare) -> None:
        assert snap_compare(
            replaying("deadlock_mutex"),
            run_before=choose("deadlock_mutex"),
            press=["r"],
            terminal_size=(80, 24),
        )

    def test_deadlock_detected_wide(self, snap_compare) -> None:
        assert snap_compare(
            replaying("deadlock_mutex"),
            run_before=choose("deadlock_mutex"),
            press=["r"],
            terminal_size=(140, 36),
        )


class TestSocketsPanel:
    def test_select_server_mid_run(self, snap_compare) -> None:
        assert snap_compare(
            replaying("io_select", upto=300),
            run_before=choose("io_select"),
            press=["r"],
            terminal_size=(120, 44),
        )


class TestPoolPanel:
    def test_pool_of_five_second_wave(self, snap_compare) -> None:
        assert snap_compare(
            replaying("pool_five", upto=60),  # 5 tasks done, the second 5 running
            run_before=choose("pool_five"),
            press=["r"],
            terminal_size=(120, 40),
        )
