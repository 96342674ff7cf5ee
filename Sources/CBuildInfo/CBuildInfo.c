#include "CBuildInfo.h"

#ifndef PULLWARDEN_COMMIT
#define PULLWARDEN_COMMIT "unknown"
#endif
#ifndef PULLWARDEN_BUILD_DATE
#define PULLWARDEN_BUILD_DATE "unknown"
#endif

const char *CBuildInfo_commit(void) { return PULLWARDEN_COMMIT; }
const char *CBuildInfo_date(void) { return PULLWARDEN_BUILD_DATE; }
