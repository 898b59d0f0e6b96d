"""Test configuration: hypothesis profiles (no deadline: first calls compile)."""

import os
import signal

from hypothesis import HealthCheck, settings

# A shell starts background jobs (``cmd &`` without job control, ``nohup``) with SIGINT
# ignored, and Python then installs no KeyboardInterrupt handler: the tests that stop a
# long solve with Ctrl-C (here and in the subprocesses they start, which inherit the
# disposition) would fail. Restore the default handler for the test session.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

settings.register_profile(
    "default",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
