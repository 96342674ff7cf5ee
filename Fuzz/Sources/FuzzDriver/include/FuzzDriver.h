#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with `argv` on `test`. SwiftPM links a debug executable with its `main` defined as
/// `<Target>_main`, which replaces libFuzzer's own `main`; each target's `<Target>_main` calls this.
int FuzzDriver_run(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));

#endif
