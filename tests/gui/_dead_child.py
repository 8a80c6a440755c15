"""A training-process main function that dies at once, without answering (an antivirus, a sandbox)."""

import os


def die(*args) -> None:
    os._exit(3)
