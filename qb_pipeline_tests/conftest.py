"""Suite-wide test settings.

Under CI=true hypothesis runs derandomized (the same examples every run), so a CI result is
reproducible; locally it explores new examples each run and remembers failures.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")
