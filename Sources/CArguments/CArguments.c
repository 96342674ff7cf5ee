// The command line for Swift's `CommandLine`, captured the cheap way (release builds only).
//
// With the Swift runtime linked statically (scripts/build-release), the runtime's own CommandLine.cpp
// finds argv at start-up by reading /proc/self/maps with fgets and sscanf, in a static initialiser
// that every process runs: about 130,000 instructions and a /proc file the kernel must render, on
// each of the kubelet's calls. glibc passes argc and argv to every ELF constructor, so this file
// keeps them from one and defines the two functions the runtime's CommandLine.cpp.o would provide;
// the linker then never takes that object from libswiftCore.a. Were a future toolchain to rename
// the hook, CommandLine.cpp.o would simply be linked again (a slower start, nothing worse);
// scripts/check-binary fails if its initialiser is back, so the change is noticed.
//
// Only with PULLWARDEN_STATIC_SWIFT_RUNTIME (set by scripts/build-release): with the shared Swift
// runtime of debug builds and tests, the runtime keeps its own, hidden, implementation.
#include <stddef.h>
#if defined(__linux__)
#include <features.h> // __GLIBC__
#endif
#if defined(PULLWARDEN_STATIC_SWIFT_RUNTIME) && defined(__linux__) && defined(__GLIBC__)

static char **capturedArgv;
static int capturedArgc;
static char **overrideArgv;
static int overrideArgc;
static char *emptyArgv[] = {0};

// glibc calls .init_array functions with (argc, argv, envp), before the Swift runtime's
// initialisers and main.
__attribute__((constructor(101), used)) static void pullwardenCaptureArguments(int argc, char **argv, char **envp) {
  (void)envp;
  capturedArgc = argc;
  capturedArgv = argv;
}

// The runtime's hooks, as declared in Swift's stdlib/public/CommandLineSupport/CommandLine.cpp.
__attribute__((swiftcall, visibility("hidden"))) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
  if (overrideArgv) {
    *outArgLen = overrideArgc;
    return overrideArgv;
  }
  if (!capturedArgv) {
    *outArgLen = 0;
    return emptyArgv;
  }
  *outArgLen = capturedArgc;
  return capturedArgv;
}

__attribute__((swiftcall, visibility("hidden"))) void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
  overrideArgv = argv;
  overrideArgc = argc;
}

#endif
