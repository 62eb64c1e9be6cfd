// deflateInit and inflateInit are macros (they pass ZLIB_VERSION and sizeof(z_stream)), which
// Swift cannot call: these inline wrappers can be.
#include <zlib.h>

static inline int czlib_deflateInit(z_streamp stream, int level) { return deflateInit(stream, level); }
static inline int czlib_inflateInit(z_streamp stream) { return inflateInit(stream); }
