// Everything lives in the header as static inline forwarders; SwiftPM needs one C file per target.
#include "CJansson.h"
