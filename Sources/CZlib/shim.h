// zlib (Debian's zlib1g-dev; swift-nio-extras' HTTP compression links it too): gzip for TLS reports.
#include <zlib.h>
