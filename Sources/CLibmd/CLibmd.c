// Everything lives in the header; SwiftPM needs one C file per target.
#include "CLibmd.h"
