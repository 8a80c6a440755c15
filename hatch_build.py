"""Build hook: compile rnnlab/core/_kernels.c (the LSTM's and the vanilla cell's loops) into the wheel.

The kernels are optional: without a C compiler (or with ``RNNLAB_NO_KERNELS=1``) the build goes on, says so, and
rnnlab runs its pure-NumPy path (same results; see rnnlab/core/_compiled.py). setuptools' build_ext does the
compiling, so any compiler Python's own extensions build with works (gcc, clang, MSVC). An editable install puts
the library next to the source, where the import finds it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "rnnlab/core/_kernels.c"
MODULE = "rnnlab.core._kernels"


def source_digest(path: Path) -> int:
    """The first 60 bits of the source's SHA-256, compiled into the library: rnnlab/core/_compiled.py refuses a
    library built from another version of the source (an editable install after the C file changed)."""
    import hashlib

    return int(hashlib.sha256(path.read_bytes()).hexdigest()[:15], 16)


def compile_kernels(root: Path, out_dir: Path) -> Path:
    """Build the extension into ``out_dir`` (as rnnlab/core/_kernels.<suffix>) and return its path."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    class _BuildExt(build_ext):
        def build_extensions(self):
            if self.compiler.compiler_type == "msvc":
                flags = ["/O2", "/fp:precise"]
            else:  # gcc, clang: products and sums fused where the CPU has fused multiply–add (measured: the
                # float64 loops 8–9 % faster; the results then agree with NumPy's to rounding, as tanh and σ do); no
                # trapping maths (nothing reads the floating-point flags), so the selects of tanh and σ vectorise
                # without AVX-512's masks (measured: the AVX2 build's LSTM loop stayed scalar without it)
                flags = ["-O3", "-ffp-contract=fast", "-fno-math-errno", "-fno-trapping-math"]
            for ext in self.extensions:
                ext.extra_compile_args = flags
            super().build_extensions()

    digest = source_digest(root / SOURCE)
    ext = Extension(MODULE, [str(root / SOURCE)], define_macros=[("RNNLAB_KERNELS_SOURCE", f"{digest}ULL")])
    dist = Distribution({"name": "rnnlab", "ext_modules": [ext]})
    cmd = _BuildExt(dist)
    with tempfile.TemporaryDirectory() as tmp:
        cmd.build_lib = str(out_dir)
        cmd.build_temp = tmp
        cmd.ensure_finalized()
        cmd.run()
        return Path(cmd.get_ext_fullpath(MODULE))


class KernelsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or os.environ.get("RNNLAB_NO_KERNELS", "") not in ("", "0"):
            return
        root = Path(self.root)
        editable = version == "editable"
        # a wheel takes the library from a temporary folder (removed in finalize), not from the output folder
        self._tmp = None if editable else tempfile.mkdtemp(prefix="rnnlab-kernels-")
        out = root if editable else Path(self._tmp)
        try:
            built = compile_kernels(root, out)
        except Exception as exc:  # no compiler, no headers: the pure-NumPy path runs
            print(f"rnnlab: the compiled kernels were not built ({exc}); the pure-NumPy path will run",
                  file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if not editable:
            build_data["force_include"][str(built)] = str(built.relative_to(out))

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if getattr(self, "_tmp", None):
            import shutil

            shutil.rmtree(self._tmp, ignore_errors=True)
