// Shim over libjansson for Swift.
//
// jansson's type tests (json_is_*) and reference counting (json_incref/json_decref) are macros or
// static inline functions built on macros, and json_pack is variadic; none of that imports cleanly
// into Swift. These one-line forwarders give Swift a plain function for each. Swift code outside
// PullwardenCore/JSON never sees json_t.
#ifndef PULLWARDEN_CJANSSON_H
#define PULLWARDEN_CJANSSON_H

#include <jansson.h>
#include <stddef.h>

/// The jansson type of `json` (never NULL).
static inline json_type CJansson_typeof(const json_t *json) { return json_typeof(json); }

/// Drops one reference; frees the value when it was the last one.
static inline void CJansson_decref(json_t *json) { json_decref(json); }

/// Parse flags used for every document Pullwarden reads: duplicate keys are an error, any JSON
/// value is accepted at the top level (the caller reports a wrong top-level type itself), and
/// \u0000 inside strings is kept (Go's decoder accepts it too).
static inline size_t CJansson_strictDecodeFlags(void) {
  return JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL;
}

/// Compact one-line output in insertion order.
static inline size_t CJansson_compactEncodeFlags(void) {
  return JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
}

#endif
