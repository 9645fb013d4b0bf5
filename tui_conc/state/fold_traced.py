"""The fold's handlers for a traced program: actors, resources and places (its "steps")
met as it runs, and a traced lock's count of holds (a part of
:class:`~tui_conc.state.fold.StateFolder`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_conc.state.records import Actor, Pool, Resource


class TracedFolding:
    """What a traced program brings mid-run."""

    now: int
    actors: list[Actor]
    resources: list[Resource]
    pools: dict[int, Pool]
    steps: list[tuple[int, str]]
    actor_names: tuple[str, ...]
    resource_names: tuple[str, ...]
    group_firsts: tuple[Actor, ...]
    lanes: Any
    _may: list[Any]
    _by_name: dict[str, int]

    def _holds(self, e: Sequence[Any]) -> None:
        """A traced lock's count of holds, seen or not (holds reported since add to it)."""
        self.now = e[3]
        r = self.resources[e[2]]
        r.acquisitions = e[4]
        if e[4] and not r.max_holders:
            r.max_holders = 1  # a plain lock: one holder at a time

    def _actor_new(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        index = e[1]
        if index != len(self.actors):
            return  # not the next one: a damaged stream (the checker says so)
        name, group, daemon = str(e[4]), str(e[5]), bool(e[6])
        actor = Actor(index, {"name": name, "group": group, "daemon": daemon}, e[3])
        self.actors.append(actor)
        self._may.append(None)  # a program's code may do anything
        self._by_name.setdefault(name, index)
        self.actor_names = (*self.actor_names, name)
        if all(a.group != group for a in self.group_firsts):
            self.group_firsts = (*self.group_firsts, actor)
        self.lanes.add_actor()

    def _resource_new(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        index = e[2]
        if index != len(self.resources):
            return
        info = dict(e[4])
        resource = Resource(index, info)
        self.resources.append(resource)
        self.resource_names = (*self.resource_names, resource.name)
        if resource.type == "pool":  # a traced program's pool (its workers are its own)
            self.pools[index] = Pool(int(info.get("workers", 0)))
        self.lanes.add_resource(resource)

    def _site_new(self, e: Sequence[Any]) -> None:
        if e[2] == len(self.steps):
            self.steps.append((int(e[4]), str(e[5])))
