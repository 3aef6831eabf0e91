"""Build the Cython extensions: openclaw/_core/*.pyx and each venue's openclaw/venues/*/*.pyx
(its depth decoder), found by glob, so a new venue adds its module here by existing.

Release build (default): boundscheck/wraparound/initializedcheck off, -O3.
Debug build: OPENCLAW_DEBUG=1 turns the checks back on (and -O0 -g), for hunting memory errors.
"""

import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("OPENCLAW_DEBUG", "") not in ("", "0")

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}
compile_args = ["-O0", "-g"] if DEBUG else ["-O3"]

SOURCES = sorted(Path("openclaw/_core").glob("*.pyx")) + sorted(
    Path("openclaw/venues").glob("*/*.pyx")
)

extensions = [
    Extension(
        ".".join(pyx.with_suffix("").parts),
        [str(pyx)],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
    )
    for pyx in SOURCES
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        compile_time_env={"OPENCLAW_DEBUG": DEBUG},
    ),
)
