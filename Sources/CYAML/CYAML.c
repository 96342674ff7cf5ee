// Everything lives in the header as static inline accessors; SwiftPM needs one C file per target.
#include "CYAML.h"
