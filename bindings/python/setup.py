"""Build script: a normal setuptools package, plus librwcnn bundled inside
it when a built library is named at build time.

Where the library is taken from (first hit wins; nothing else is searched,
so a library planted in a shared directory is never bundled):
  1. the environment variable RWCNN_LIBRARY (must exist if set);
  2. only with RWCNN_DEV=1: the build output of the repository holding this
     directory (<repo>/bindings/python, <repo>/Package.swift present):
     <repo>/.build/release/librwcnn.so (swift build) or <repo>/build/librwcnn.so
     (CMake); never any other parent directory.
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
    if os.environ.get("RWCNN_DEV") != "1":
        return None
    repo = os.path.dirname(os.path.dirname(HERE))
    if os.path.basename(HERE) != "python" or not os.path.isfile(os.path.join(repo, "Package.swift")):
        return None
    for sub in (os.path.join(".build", "release"), "build"):
        path = os.path.join(repo, sub, LIB_NAME)
        if os.path.isfile(path):
            return path
    return None


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
    # py.typed (PEP 561) always; the library when one was bundled.
    package_data={"rwcnn": ["py.typed"] + ([LIB_NAME] if LIBRARY else [])},
    include_package_data=False,
    zip_safe=False,
)
