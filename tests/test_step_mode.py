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
        if app.source.status in ("finished", "deadlock", "stall"):
            return True
        return bool(schedule.options) and _showing(app, steps)()

    return ready


def _marked(panel: SchedulePanel, actor: str, taken: int) -> bool:
    """The panel shows step ``taken + 1``'s choices, the highlighted one ``actor`` (▶)."""
    if f": {taken} of " not in str(panel.query_one("#goal").render()):
        return False
    choices = panel.query_one(OptionList)
    at = choices.highlighted
    if at is None or at >= choices.option_count:
        return False
    return str(choices.get_option_at_index(at).prompt).startswith(f"▶ {actor} ")


def _showing(app: TuiConcApp, steps: int):
    """True once the Schedule panel (not only the run) shows the choices after ``steps``:
    a digit pressed before would pick from the list as it was."""

    def ready() -> bool:
        panel = app.query_one(SchedulePanel)
        title = str(panel.border_title)
        shown = f"· {steps} step" in title or f"· {steps} switch" in title
        return shown and panel.query_one(OptionList).option_count > 0

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
            await _until(pilot, _showing(app, n - 1))
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
            await _until(pilot, _showing(app, n - 1))
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


async def test_step_mode_on_gevent_lets_a_greenlet_run_to_its_next_switch() -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        entry = _open(app, "race_counter")
        app.open_entry(entry)
        app.backends[entry.path] = "gevent"
        await pilot.press("t")
        await _until(pilot, _offered(app, 0), 20)
        panel = app.query_one(SchedulePanel)
        assert app.source.snapshot(log_tail=0).backend == "gevent"
        await _until(pilot, _showing(app, 0))
        assert "step mode on gevent" in str(panel.border_title)
        # one choice: worker-0 reads and sleeps (a switch) in one go
        await pilot.press("1")
        await _until(pilot, _offered(app, 1), 20)
        snap = app.source.snapshot(log_tail=0)
        assert [o.actor for o in snap.schedule.options if o.enabled] == ["worker-0", "worker-1"]
        assert snap.schedule.clock_s == 0.1  # its sleep, in virtual time
        for n, key in enumerate(["2", "2", "1"], 2):  # worker-1 reads 100 too: one lost
            await _until(pilot, _showing(app, n - 1))
            await pilot.press(key)
            await _until(pilot, _offered(app, n), 20)
        await _until(pilot, lambda: app.results is not None, 20)
        assert [v.value for v in app.source.snapshot(log_tail=0).variables] == [99]
        assert panel.reached.startswith("Goal reached in 4 switches")


async def test_a_saved_schedule_opens_at_step_0_and_enter_follows_it(tmp_path) -> None:
    """``tui-conc replay FILE.schedule``: the learner steps through a found schedule."""
    import json
    from pathlib import Path

    from tui_conc.engine.runner import scenario_hash
    from tui_conc.ui.stepping import open_saved_schedule

    from .conftest import SCENARIOS

    path = SCENARIOS / "race_counter.yaml"
    plan = ["worker-0", "worker-1", "worker-1", "worker-1", "worker-0", "worker-0"]
    saved = tmp_path / "lost.schedule"
    saved.write_text(
        json.dumps(
            {
                "format": "tui-conc-schedule",
                "version": 1,
                "scenario": str(path),
                "scenario_sha256": scenario_hash(str(path)),
                "knobs": {"workers": 2, "start": 100, "pause": 0.1},
                "choices": plan,
            }
        )
    )
    opened = open_saved_schedule(Path(saved))
    assert opened.warnings == [] and opened.choices == plan
    app = make_app(schedule=opened)
    async with app.run_test(size=(100, 32)) as pilot:
        await _until(pilot, lambda: app.source is not None and _offered(app, 0)())
        panel = app.query_one(SchedulePanel)
        for n in range(1, 7):
            await _until(pilot, lambda n=n: _marked(panel, plan[n - 1], n - 1))
            await pilot.press("enter")
            await _until(pilot, _offered(app, n))
        assert list(_schedule(app).choices) == plan
        await _until(pilot, lambda: panel.reached != "")
        assert [v.value for v in app.source.snapshot(log_tail=0).variables] == [99]


async def test_leaving_a_saved_schedule_is_said() -> None:
    from tui_conc.ui.stepping import SavedSchedule

    entry = _open(make_app(), "deadlock_mutex")
    plan = ["worker-0", "worker-0", "worker-0"]
    saved = SavedSchedule(entry, {}, "thread", plan, "x")  # the scenario's own knobs
    app = make_app(schedule=saved)
    async with app.run_test(size=(100, 32)) as pilot:
        await _until(pilot, lambda: app.source is not None and _offered(app, 0)())
        await pilot.press("2")
        await _until(pilot, _offered(app, 1))
        goal = app.query_one(SchedulePanel).query_one("#goal")
        await _until(pilot, lambda: "you left it at step 1" in str(goal.render()))
