// libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0-dev). Chosen over the
// libjpeg API because its error manager and setjmp/longjmp live inside the
// library: every failure, and every warning (truncated data), comes back as
// -1 with a message, so Swift needs no C of its own and no libjpeg exit().
#include <turbojpeg.h>
