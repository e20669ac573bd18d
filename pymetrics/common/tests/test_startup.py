"""A server process imports every view before it answers, then freezes what it loaded."""

from __future__ import annotations

import gc
import subprocess
import sys


def test_the_wsgi_module_loads_every_view_and_leaves_nothing_for_the_collector():
    # in a fresh interpreter: what this test process imported already would hide it
    script = (
        "import gc, sys\n"
        "import config.wsgi\n"
        "print('pymetrics.staff.api' in sys.modules, 'pymetrics.play.api' in sys.modules)\n"
        "print(gc.get_freeze_count() > 100_000, len(gc.get_objects()) < 1_000)\n"
        # scikit-learn and skops load when a model is trained or scored, not per process
        "print('sklearn' in sys.modules, 'skops' in sys.modules)\n"
    )

    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )

    assert run.stdout.split() == ["True", "True", "True", "True", "False", "False"]


def test_freezing_again_in_this_process_is_harmless():
    from pymetrics.common.startup import prepare_server_process

    try:
        prepare_server_process()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
