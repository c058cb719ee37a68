"""Build hook for the optional C accelerator; all metadata stays in setup.cfg.

``optional=True``: without a compiler the build of the extension fails quietly and fixgate runs on
its pure-Python codec (set FIXGATE_PURE_PYTHON=1 to force that even when the extension is built).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("fix_engine.codec._speedups", ["fix_engine/codec/_speedups.c"], optional=True)])
