"""Version of the Python binding (it follows the C library's version).

The version is written once, in include/rwcnn.h (RWCNN_VERSION_MAJOR /
_MINOR / _PATCH); this string must equal it, and a test
(tests/test_front_end.py) fails when it does not.
"""

__version__ = "0.1.0"

_major, _minor, _patch = (int(p) for p in __version__.split("."))
#: The C library version (MAJOR*10000 + MINOR*100 + PATCH) this binding was
#: written against; rwcnn_version_number() must share MAJOR and MINOR.
HEADER_VERSION_NUMBER = _major * 10000 + _minor * 100 + _patch
