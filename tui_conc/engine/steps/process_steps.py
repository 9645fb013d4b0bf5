"""Compiling the dict / list and pool steps (a part of the Compiler)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_conc.engine.steps.compiling import Block, expr
from tui_conc.scenario import model as m

if TYPE_CHECKING:
    from tui_conc.engine.steps.frame import Frame


class ProcessSteps:
    """Step compilers for Manager dicts and lists and for pools."""

    run: Any
    a: int

    def _update(self, s: m.Update, sid: int) -> Block:
        target, key, value, a = self.run.by_name[s.update], expr(s.key), expr(s.value), self.a
        return lambda f: target.update(a, key(f), value(f))

    def _append(self, s: m.Append, sid: int) -> Block:
        target, item, a = self.run.by_name[s.append], expr(s.item), self.a
        return lambda f: target.append(a, item(f))

    def _pool(self, name: str) -> Any:
        pool = self.run.by_name.get(name)
        if pool is None or not hasattr(pool, "submit"):
            raise RuntimeError(f"pool {name!r} lives in the main process (add runs_in: main)")
        return pool

    def _submit(self, s: m.Submit, sid: int) -> Block:
        pool, task, a = self._pool(s.submit), s.task, self.a
        args = [(k, expr(v)) for k, v in (s.args or {}).items()]
        return lambda f: pool.submit(a, task, {k: e(f) for k, e in args})

    def _map(self, s: m.Map, sid: int) -> Block:
        pool, task, items, name, a = self._pool(s.map), s.task, expr(s.items), s.as_, self.a

        def map_(f: Frame) -> None:
            results = pool.map(a, sid, task, list(items(f)))
            if name:
                f.locals[name] = results

        return map_

    def _terminate(self, s: m.Terminate, sid: int) -> Block:
        pool, a = self._pool(s.terminate), self.a
        return lambda f: pool.terminate(a)
