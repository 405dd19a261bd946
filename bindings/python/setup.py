"""Build script: a normal setuptools package, plus librwcnn bundled inside
it when a built library can be found at build time.

Where the library is taken from (first hit wins):
  1. the environment variable RWCNN_LIBRARY (must exist if set);
  2. the repository's build output above this directory:
     <repo>/.build/release/librwcnn.so (swift build) or <repo>/build/librwcnn.so
     (CMake).
It is copied to rwcnn/librwcnn.so in the built package (package data), where
the runtime lookup finds it first after RWCNN_LIBRARY. Without a library the
package is still built; it then finds librwcnn at run time (see README).
"""

import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))

if sys.platform == "darwin":
    LIB_NAME = "librwcnn.dylib"
else:
    LIB_NAME = "librwcnn.so"


def built_library():
    env = os.environ.get("RWCNN_LIBRARY")
    if env:
        if not os.path.isfile(env):
            sys.exit("RWCNN_LIBRARY=%r does not exist" % env)
        return os.path.abspath(env)
    d = HERE
    while True:
        for sub in (os.path.join(".build", "release"), "build"):
            path = os.path.join(d, sub, LIB_NAME)
            if os.path.isfile(path):
                return path
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


LIBRARY = built_library()


class BuildPyWithLibrary(build_py):
    """build_py that also copies the built librwcnn into the package."""

    def run(self):
        super().run()
        if LIBRARY:
            target = os.path.join(self.build_lib, "rwcnn", LIB_NAME)
            self.mkpath(os.path.dirname(target))
            # copy the file the symlink points to (the soname link may dangle elsewhere)
            shutil.copyfile(os.path.realpath(LIBRARY), target)
            os.chmod(target, 0o755)
            print("rwcnn: bundled %s" % LIBRARY)
        else:
            print("rwcnn: no built librwcnn found (set RWCNN_LIBRARY to bundle one); the "
                  "package will look for it at run time")


class MaybeBinaryDistribution(Distribution):
    """A wheel with a bundled library is platform-specific."""

    def has_ext_modules(self):
        return bool(LIBRARY)


setup(
    cmdclass={"build_py": BuildPyWithLibrary},
    distclass=MaybeBinaryDistribution,
    package_data={"rwcnn": [LIB_NAME]} if LIBRARY else {},
    include_package_data=False,
    zip_safe=False,
)
