"""The build step pyproject.toml cannot say: the firmware, board files and example
scenarios from the checkout (../firmware, ../boards, ../tests/scenarios) copied into the
package as headroom/_data (headroom/paths.py's `shipped` names them, `data` finds them),
and the version read from the firmware's version.py (one version for both)."""
import importlib.util
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("_headroom_paths",
                                               os.path.join(HERE, "headroom", "paths.py"))
paths = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paths)
ROOT = os.path.dirname(HERE)


class build_py_with_data(build_py):
    def run(self):
        build_py.run(self)
        if getattr(self, "editable_mode", False):
            return   # an editable install runs from the checkout: paths.data finds it there
        if not paths.in_checkout(ROOT):
            raise SystemExit("headroom: build from a Headroom checkout (pip install ./host_tools): "
                             "the firmware and board files are shipped from ../firmware and ../boards")
        dest = os.path.join(self.build_lib, "headroom", "_data")
        shutil.rmtree(dest, ignore_errors=True)
        for src, rel in paths.shipped(ROOT):
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(src, out)


setup(version=paths.firmware_version(ROOT), cmdclass={"build_py": build_py_with_data})
