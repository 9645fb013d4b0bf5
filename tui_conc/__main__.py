"""``python -m tui_conc``: the same as the ``tui-conc`` command."""

from tui_conc.cli import main

main()
