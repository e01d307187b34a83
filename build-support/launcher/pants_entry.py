"""Runs Pants as its own `pants` script does, minus one scheduler that this repository never uses.

Before it reads BUILD files, Pants builds a "bootstrap" scheduler whose only job is resolving
`[GLOBAL].plugins` (third-party Pants plugins from an index). Building it means solving the rule
graph of the whole Python backend: about 3.8 s of one core here, on every run without pantsd,
which is every CI run and every cold build; with none configured, it then resolves nothing. This
repository's plugins are in-repo (`[GLOBAL].pythonpath`), so here that scheduler is built the
first time a run names a plugin, and never otherwise. Everything else is Pants' own code path.

It runs under the Pants virtualenv's CPython (./pants execs it), then runs that virtualenv's
`pants` script; it stays argv[0]: pantsd is spawned as `sys.executable + sys.argv`, so the
daemon starts through here too.

Pinned to the Pants version it was read against: under any other version it changes nothing,
so an upgrade cannot break on it (docs/upgrading-pants.md says to look at it again).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

# The Pants whose `OptionsInitializer.__init__` builds the bootstrap scheduler and does nothing
# else (pants/init/options_initializer.py).
READ_AGAINST_PANTS = "2.17.1"


class _PluginResolverOnFirstUse:
    """Stands in for Pants' PluginResolver: makes the real one, and its scheduler, only for a run
    that asks for plugins."""

    def __init__(self, executor) -> None:
        self._executor = executor
        self._resolver = None

    def resolve(self, options_bootstrapper, env):
        # The working set PluginResolver.resolve returns when it resolves no plugin.
        from pants.init.plugin_resolver import global_working_set

        if not options_bootstrapper.get_bootstrap_options().for_global_scope().plugins:
            return global_working_set
        if self._resolver is None:
            from pants.init.options_initializer import create_bootstrap_scheduler
            from pants.init.plugin_resolver import PluginResolver

            scheduler = create_bootstrap_scheduler(options_bootstrapper, self._executor)
            self._resolver = PluginResolver(scheduler)
        return self._resolver.resolve(options_bootstrapper, env)


def _build_the_bootstrap_scheduler_on_first_use() -> None:
    from pants.init.options_initializer import OptionsInitializer
    from pants.version import VERSION

    if str(VERSION) != READ_AGAINST_PANTS:
        return

    def __init__(self, options_bootstrapper, executor) -> None:
        self._plugin_resolver = _PluginResolverOnFirstUse(executor)

    OptionsInitializer.__init__ = __init__


def main() -> None:
    # This folder, which Python put first on sys.path, holds no code of Pants'.
    del sys.path[0]
    _build_the_bootstrap_scheduler_on_first_use()
    # Then the virtualenv's own `pants` script, as if it had been run (it calls Pants' loader).
    # sys.argv stays ours, so that pantsd, spawned as `sys.executable + sys.argv`, comes here too.
    runpy.run_path(str(Path(sys.executable).parent / "pants"), run_name="__main__")


if __name__ == "__main__":
    main()
