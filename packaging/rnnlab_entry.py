"""Entry point of the frozen app: the same command line as the installed ``rnnlab``."""

import os
import sys

# a bare environment (env -i) has the C locale: Qt wants UTF-8 and would print a notice switching to it
if os.environ.get("LC_ALL", os.environ.get("LANG", "C")) in ("", "C", "POSIX"):
    os.environ["LC_ALL"] = "C.UTF-8"

import multiprocessing  # noqa: E402

from rnnlab.cli import main  # noqa: E402

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the app trains in a spawned child process
    sys.exit(main())
