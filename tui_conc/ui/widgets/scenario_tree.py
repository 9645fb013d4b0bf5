"""The scenario list: chapters and their lessons, keyboard first."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree

from tui_conc.scenario import Entry, chapters


class ScenarioTree(Tree[Entry]):
    """Scenarios grouped by chapter; the cursor picks one, Enter opens its lesson."""

    BORDER_TITLE = "Scenarios"

    class Picked(Message):
        """The highlighted scenario changed (or was chosen with Enter)."""

        def __init__(self, entry: Entry, chosen: bool) -> None:
            super().__init__()
            self.entry = entry
            self.chosen = chosen

    def __init__(self, entries: list[Entry], **kwargs: object) -> None:
        super().__init__("scenarios", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self.entries = entries
        for chapter, members in chapters(entries):
            node = self.root.add(Text(chapter, style="bold"), expand=True)
            for entry in members:
                label = Text(entry.title)
                if not entry.valid:
                    label = Text.assemble(("✗ ", "bold red"), (entry.title, "red"))
                node.add_leaf(label, data=entry)

    def on_mount(self) -> None:
        self.cursor_line = 0  # the first chapter: one "down" opens its first lesson

    def _leaves(self):  # type: ignore[no-untyped-def]
        for chapter in self.root.children:
            yield from chapter.children

    def select_entry(self, entry: Entry) -> None:
        """Move the cursor to ``entry`` (from the command palette)."""
        for node in self._leaves():
            if node.data is entry:
                self.move_cursor(node, animate=False)
                self.post_message(self.Picked(entry, chosen=True))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Picked(event.node.data, chosen=False))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Entry]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Picked(event.node.data, chosen=True))
