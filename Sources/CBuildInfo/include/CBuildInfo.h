// What the release build stamps into the binary: the commit it was built from and that commit's
// date (a reproducible "build date": the same sources give the same bytes). scripts/build-release
// defines both with -Xcc; any other build says "unknown".
#ifndef PULLWARDEN_CBUILDINFO_H
#define PULLWARDEN_CBUILDINFO_H

const char *CBuildInfo_commit(void);
const char *CBuildInfo_date(void);

#endif
