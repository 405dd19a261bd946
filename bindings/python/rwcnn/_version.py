"""Version of the Python binding (it follows the C library's version)."""

__version__ = "0.1.0"
#: The C library version (MAJOR*10000 + MINOR*100 + PATCH) this binding was
#: written against; rwcnn_version_number() must share MAJOR and MINOR.
HEADER_VERSION_NUMBER = 100
