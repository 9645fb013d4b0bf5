"""SVG snapshots of the main screen, rendered from recorded runs (never live timing)."""

from __future__ import annotations

from pathlib import Path

from tui_conc.session import ReplayRun
from tui_conc.ui.app import TuiConcApp, make_app
from tui_conc.ui.widgets.actors_panel import ActorsPanel
from tui_conc.ui.widgets.scenario_tree import ScenarioTree

from .conftest import TRACES

EXTRA = Path(__file__).resolve().parent / "snapshot_scenarios"


def replaying(stem: str, upto: int | None = None, folder: Path | None = None) -> TuiConcApp:
    """The app as users get it, but its runs replay a recorded trace."""
    return make_app(
        folder,
        source_factory=lambda entry, overrides, backend: ReplayRun(TRACES / f"{stem}.trace", upto),
    )


def light(app: TuiConcApp) -> TuiConcApp:
    app.theme = "textual-light"
    return app


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


class TestReadableRun:
    """#12: ownership and waiting readable, failures loud, at 80x24 and wide."""

    def test_a_failed_actor_is_loud(self, snap_compare) -> None:
        assert snap_compare(
            replaying("consumer_fails", folder=EXTRA),
            run_before=choose("consumer_fails"),
            press=["r"],
            terminal_size=(100, 30),
        )

    def test_pool_of_five_at_80x24(self, snap_compare) -> None:
        assert snap_compare(
            replaying("pool_five", upto=60),
            run_before=choose("pool_five"),
            press=["r"],
            terminal_size=(80, 24),
        )

    def test_the_help_overlay(self, snap_compare) -> None:
        assert snap_compare(make_app(), press=["question_mark"], terminal_size=(100, 40))

    def test_the_light_theme(self, snap_compare) -> None:
        assert snap_compare(
            light(replaying("deadlock_mutex")),
            run_before=choose("deadlock_mutex"),
            press=["r"],
            terminal_size=(140, 36),
        )

    def test_an_actors_details(self, snap_compare) -> None:
        async def open_details(pilot) -> None:
            await choose("deadlock_mutex")(pilot)
            await pilot.press("r")
            await pilot.pause(0.3)
            pilot.app.query_one(ActorsPanel).focus()
            await pilot.press("enter")
            await pilot.pause(0.3)

        assert snap_compare(
            replaying("deadlock_mutex"), run_before=open_details, terminal_size=(110, 40)
        )


class TestTimeline:
    """#13: the Timeline view, from recorded runs."""

    def test_the_deadlock_at_80x24(self, snap_compare) -> None:
        assert snap_compare(
            replaying("deadlock_mutex"),
            run_before=choose("deadlock_mutex"),
            press=["r", "3"],
            terminal_size=(80, 24),
        )

    def test_the_deadlock_wide(self, snap_compare) -> None:
        assert snap_compare(
            replaying("deadlock_mutex"),
            run_before=choose("deadlock_mutex"),
            press=["r", "3"],
            terminal_size=(160, 40),
        )

    def test_the_pool_of_five_at_80x24(self, snap_compare) -> None:
        assert snap_compare(
            replaying("pool_five"),
            run_before=choose("pool_five"),
            press=["r", "3"],
            terminal_size=(80, 24),
        )

    def test_the_pool_of_five_wide(self, snap_compare) -> None:
        assert snap_compare(
            replaying("pool_five"),
            run_before=choose("pool_five"),
            press=["r", "3"],
            terminal_size=(140, 40),
        )

    def test_the_bounded_producer_consumer_looked_back(self, snap_compare) -> None:
        # the cursor moved back 30 columns: the status says AT, the lanes show the cursor
        async def look_back(pilot) -> None:
            await choose("producer_consumer_bounded")(pilot)
            await pilot.press("r", "3")
            await pilot.pause(0.3)  # the Timeline has drawn the run: its cursor can move
            await pilot.press(*["shift+left"] * 3)
            await pilot.pause(0.2)

        assert snap_compare(
            replaying("producer_consumer_bounded"), run_before=look_back, terminal_size=(100, 32)
        )

    def test_the_panels_at_an_earlier_event(self, snap_compare) -> None:
        assert snap_compare(
            replaying("deadlock_mutex"),
            run_before=choose("deadlock_mutex"),
            press=["r", *["left_square_bracket"] * 6],
            terminal_size=(100, 32),
        )


class TestDask:
    """Recorded runs on a LocalCluster: replaying them needs no Dask."""

    def test_the_deadlock_across_two_workers(self, snap_compare) -> None:
        # the banner and the Actors panel name each task's worker (address, pid)
        assert snap_compare(
            replaying("dask_deadlock"),
            run_before=choose("dask_deadlock"),
            press=["r"],
            terminal_size=(120, 30),
        )

    def test_a_lease_taken_back_leaves_two_holders(self, snap_compare) -> None:
        # hog's lease expired, other took the lock: both hold it, hog's marked
        assert snap_compare(
            replaying("dask_lease_expiry", upto=18),
            run_before=choose("dask_lease_expiry"),
            press=["r"],
            terminal_size=(120, 30),
        )
