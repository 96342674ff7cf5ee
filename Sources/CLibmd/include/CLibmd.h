// Shim over libmd's SHA-256 (Debian libmd-dev), linked statically: see docs/design-decisions.md.
//
// libmd's SHA256Init/Update/Final import into Swift as they are; this header gives the module its
// name. Swift code outside PullwardenCore/Support/SHA256.swift never sees SHA2_CTX.
#ifndef PULLWARDEN_CLIBMD_H
#define PULLWARDEN_CLIBMD_H

#include <sys/types.h>
#include <stdint.h>
#include <sha2.h>

#endif
