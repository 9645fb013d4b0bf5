"""Pilot tests of step mode (t), its keys, undo, the challenge, and explore (e)."""

from __future__ import annotations

from textual.widgets import OptionList

from tui_conc.ui.app import TuiConcApp, make_app
from tui_conc.ui.widgets.schedule_panel import SchedulePanel

from .test_app import _open, _until


def _schedule(app: TuiConcApp):
    snap = app.source.snapshot(log_tail=0) if app.source is not None else None
    return snap.schedule if snap is not None else None


def _offered(app: TuiConcApp, steps: int):
    """True once ``steps`` steps are taken and the next choice is offered (or the run ended)."""

    def ready() -> bool:
        schedule = _schedule(app)
        if schedule is None or len(schedule.choices) != steps:
            return False
        return bool(schedule.options) or app.source.status in ("finished", "deadlock", "stall")

    return ready


def _state(app: TuiConcApp) -> tuple:
    snap = app.source.snapshot(log_tail=0)
    return (
        snap.schedule.choices,
        tuple((o.actor, o.line, o.blocked_on) for o in snap.schedule.options),
        tuple((lock.name, lock.owners, lock.waiters) for lock in snap.locks),
        tuple((v.name, v.value) for v in snap.variables),
    )


async def test_the_learner_loses_an_update_step_by_step_and_the_challenge_says_so() -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_entry(_open(app, "race_counter"))
        await pilot.press("t")
        await _until(pilot, _offered(app, 0))
        panel = app.query_one(SchedulePanel)
        assert panel.display and app.stepping == {"workers": 2, "start": 100, "pause": 0.1}
        options = _schedule(app).options
        assert [(o.actor, o.text, o.enabled) for o in options] == [
            ("worker-0", "read num", True),
            ("worker-1", "read num", True),
        ]
        # both read 100 before either writes: the learner's schedule
        for n, key in enumerate(["1", "1", "2", "2", "2", "1"], 1):
            await _until(pilot, lambda: app.query_one(OptionList).option_count > 0)
            await pilot.press(key)
            await _until(pilot, _offered(app, n))
        await _until(pilot, lambda: app.results is not None)
        snap = app.source.snapshot(log_tail=0)
        assert snap.schedule.choices == (
            "worker-0",
            "worker-0",
            "worker-1",
            "worker-1",
            "worker-1",
            "worker-0",
        )
        assert [v.value for v in snap.variables] == [99]
        assert panel.reached.startswith("Goal reached in 6 steps")


async def test_a_step_that_would_block_cannot_be_chosen_and_undo_restores_the_state() -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("t")
        await _until(pilot, _offered(app, 0))
        await pilot.press("1")  # worker-0 takes mutexA
        await _until(pilot, _offered(app, 1))
        options = {o.actor: o for o in _schedule(app).options}
        assert options["worker-1"].blocked_on == "mutexA" and not options["worker-1"].enabled
        choices = app.query_one(OptionList)
        # the list shows the new offer once the app has polled it: worker-1 greyed out
        await _until(
            pilot,
            lambda: choices.option_count == 2 and choices.get_option_at_index(1).disabled,
        )
        await pilot.press("2")  # refused: it would block
        await pilot.pause(0.5)
        assert len(_schedule(app).choices) == 1
        await pilot.press("1")
        await _until(pilot, _offered(app, 2))
        before = _state(app)
        await pilot.press("1")
        await _until(pilot, _offered(app, 3))
        assert _state(app) != before
        await pilot.press("u")  # the schedule but its last step, from the start
        await _until(pilot, _offered(app, 2))
        assert _state(app) == before


async def test_auto_goes_on_until_someone_blocks_and_a_deadlock_gets_its_verdict() -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("t")
        await _until(pilot, _offered(app, 0))
        # the classic: worker-0 to fun2's sleep, holding mutexB; worker-1 takes mutexA
        for n, key in enumerate(["1"] * 7 + ["2", "2"], 1):
            await _until(pilot, _offered(app, n - 1))
            await pilot.press(key)
        await _until(pilot, lambda: app.source.status == "deadlock")
        snap = app.source.snapshot(log_tail=0)
        assert {e.actor for e in snap.cycle} == {"worker-0", "worker-1"}
        await _until(pilot, lambda: app.query_one(SchedulePanel).reached != "")
        # a: the scheduler alone stops at the next block
        await pilot.press("t")
        await _until(pilot, _offered(app, 0))
        await pilot.press("a")
        await _until(
            pilot, lambda: len(_schedule(app).choices) >= 1 and bool(_schedule(app).options)
        )
        assert any(not o.enabled for o in _schedule(app).options) or app.source.status != "running"


async def test_explore_finds_a_schedule_and_the_app_replays_it() -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        app.open_entry(_open(app, "queue_empty_check"))
        await pilot.press("e")
        await _until(pilot, lambda: app.stepping is not None and app.source is not None, 60)
        await _until(pilot, lambda: app.source.status == "stall", 30)
        await _until(pilot, lambda: app.query_one(SchedulePanel).reached != "")
        assert len(_schedule(app).choices) > 0
