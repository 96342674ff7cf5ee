// Shim over libcurl for Swift, with libcurl loaded at run time.
//
// libcurl and its 30-odd dependencies cost about 7 ms of process start-up, which the kubelet would pay
// on every `provide` call, even the ones that only read files. So nothing links against libcurl: the
// first HTTP request dlopen()s libcurl.so.4 and looks up the handful of functions below. Only a
// dynamically linked process can: libcurl loaded into a static one brings a second glibc, whose
// resolver crashes on the first host name (Step 6), so the static `pullwarden` hands such calls to
// `pullwarden-dynamic` (Sources/pullwarden/HandOff.swift). curl's headers are used for types and
// constants only.
//
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call; each value type gets a
// one-line typed forwarder. Every function here other than CCurl_load requires a successful CCurl_load.
#ifndef PULLWARDEN_CCURL_H
#define PULLWARDEN_CCURL_H

#include <curl/curl.h>
#include <stddef.h>

/// Whether this process can load libcurl: 1 in a dynamically linked build, 0 in a statically linked
/// one (built with -DPULLWARDEN_STATIC_GLIBC).
int CCurl_loadable(void);

/// Loads libcurl (once per process; later calls return the first outcome) and runs curl_global_init.
/// Returns 1 on success. On failure returns 0 and writes a one-line reason to `error`.
int CCurl_load(char *error, size_t errorSize);

CURL *CCurl_easy_init(void);
void CCurl_easy_cleanup(CURL *handle);
const char *CCurl_easy_strerror(CURLcode code);

CURLcode CCurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode CCurl_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode CCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode CCurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode CCurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
/// For blob options such as CURLOPT_CAINFO_BLOB (libcurl 7.77+); libcurl copies the bytes.
CURLcode CCurl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);
/// For CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION (same signature).
CURLcode CCurl_easy_setopt_callback(CURL *handle, CURLoption option, curl_write_callback value);

CURLcode CCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode CCurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

struct curl_slist *CCurl_slist_append(struct curl_slist *list, const char *text);
void CCurl_slist_free_all(struct curl_slist *list);

CURLM *CCurl_multi_init(void);
CURLMcode CCurl_multi_cleanup(CURLM *multi);
CURLMcode CCurl_multi_add_handle(CURLM *multi, CURL *handle);
CURLMcode CCurl_multi_remove_handle(CURLM *multi, CURL *handle);
CURLMcode CCurl_multi_perform(CURLM *multi, int *running);
CURLMcode CCurl_multi_poll(CURLM *multi, int timeoutMilliseconds, int *descriptors);
const char *CCurl_multi_strerror(CURLMcode code);

/// The next finished transfer, or NULL. Returns its easy handle and result through the out parameters
/// (the CURLMsg union does not import into Swift usefully).
int CCurl_multi_next_done(CURLM *multi, CURL **handle, CURLcode *result);

#endif
