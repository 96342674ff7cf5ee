// Run-time binding to libcurl: see CCurl.h for why nothing links against it.
#include "CCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
  CURLcode (*global_init)(long);
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *);
  CURLMcode (*multi_add_handle)(CURLM *, CURL *);
  CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
  CURLMcode (*multi_perform)(CURLM *, int *);
  CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
  CURLMsg *(*multi_info_read)(CURLM *, int *);
  const char *(*multi_strerror)(CURLMcode);
} api;

static pthread_once_t loadOnce = PTHREAD_ONCE_INIT;
static int loaded;
static char loadError[512];

// Set by scripts/build-release for its statically linked builds. (Asking the kernel instead, AT_BASE,
// would misjudge a dynamic build started as `ld-linux-x86-64.so.2 pullwarden-dynamic`.)
#ifdef PULLWARDEN_STATIC_GLIBC
int CCurl_loadable(void) { return 0; }
#else
int CCurl_loadable(void) { return 1; }
#endif

static void load(void) {
  if (!CCurl_loadable()) {
    snprintf(loadError, sizeof loadError,
             "this pullwarden is statically linked and cannot load libcurl; HTTPS sources run in pullwarden-dynamic");
    return;
  }
  // libcurl.so.4 is the soname of every libcurl since 7.16 (Debian's libcurl4 package).
  // RTLD_LAZY: libcurl pulls in ~30 libraries; binding only the symbols actually called saves about
  // 0.4 ms per HTTP provide (measured). The functions Pullwarden calls are all checked below.
  void *library = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
  if (library == NULL) {
    const char *reason = dlerror();
    snprintf(loadError, sizeof loadError, "cannot load libcurl (libcurl.so.4): %s; install libcurl4 (Debian) to use HTTPS sources",
             reason ? reason : "unknown error");
    return;
  }
#define BIND(field, symbol)                                                                            \
  do {                                                                                                 \
    *(void **)(&api.field) = dlsym(library, symbol);                                                   \
    if (api.field == NULL) {                                                                           \
      snprintf(loadError, sizeof loadError, "libcurl.so.4 lacks %s (libcurl 7.66 or newer is needed)", symbol); \
      return;                                                                                          \
    }                                                                                                  \
  } while (0)
  BIND(global_init, "curl_global_init");
  BIND(easy_init, "curl_easy_init");
  BIND(easy_cleanup, "curl_easy_cleanup");
  BIND(easy_strerror, "curl_easy_strerror");
  BIND(easy_setopt, "curl_easy_setopt");
  BIND(easy_getinfo, "curl_easy_getinfo");
  BIND(slist_append, "curl_slist_append");
  BIND(slist_free_all, "curl_slist_free_all");
  BIND(multi_init, "curl_multi_init");
  BIND(multi_cleanup, "curl_multi_cleanup");
  BIND(multi_add_handle, "curl_multi_add_handle");
  BIND(multi_remove_handle, "curl_multi_remove_handle");
  BIND(multi_perform, "curl_multi_perform");
  BIND(multi_poll, "curl_multi_poll");
  BIND(multi_info_read, "curl_multi_info_read");
  BIND(multi_strerror, "curl_multi_strerror");
#undef BIND
  CURLcode status = api.global_init(CURL_GLOBAL_DEFAULT);
  if (status != CURLE_OK) {
    snprintf(loadError, sizeof loadError, "curl_global_init failed: %s", api.easy_strerror(status));
    return;
  }
  loaded = 1;
}

int CCurl_load(char *error, size_t errorSize) {
  pthread_once(&loadOnce, load);
  if (!loaded && error != NULL && errorSize > 0) snprintf(error, errorSize, "%s", loadError);
  return loaded;
}

CURL *CCurl_easy_init(void) { return api.easy_init(); }
void CCurl_easy_cleanup(CURL *handle) { api.easy_cleanup(handle); }
const char *CCurl_easy_strerror(CURLcode code) { return api.easy_strerror(code); }

CURLcode CCurl_easy_setopt_long(CURL *handle, CURLoption option, long value) { return api.easy_setopt(handle, option, value); }
CURLcode CCurl_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) { return api.easy_setopt(handle, option, value); }
CURLcode CCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) { return api.easy_setopt(handle, option, value); }
CURLcode CCurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) { return api.easy_setopt(handle, option, value); }
CURLcode CCurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) { return api.easy_setopt(handle, option, value); }
CURLcode CCurl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length) {
  struct curl_blob blob = {(void *)data, length, CURL_BLOB_COPY};
  return api.easy_setopt(handle, option, &blob);
}
CURLcode CCurl_easy_setopt_callback(CURL *handle, CURLoption option, curl_write_callback value) { return api.easy_setopt(handle, option, value); }

CURLcode CCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) { return api.easy_getinfo(handle, info, value); }
CURLcode CCurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) { return api.easy_getinfo(handle, info, value); }

struct curl_slist *CCurl_slist_append(struct curl_slist *list, const char *text) { return api.slist_append(list, text); }
void CCurl_slist_free_all(struct curl_slist *list) { api.slist_free_all(list); }

CURLM *CCurl_multi_init(void) { return api.multi_init(); }
CURLMcode CCurl_multi_cleanup(CURLM *multi) { return api.multi_cleanup(multi); }
CURLMcode CCurl_multi_add_handle(CURLM *multi, CURL *handle) { return api.multi_add_handle(multi, handle); }
CURLMcode CCurl_multi_remove_handle(CURLM *multi, CURL *handle) { return api.multi_remove_handle(multi, handle); }
CURLMcode CCurl_multi_perform(CURLM *multi, int *running) { return api.multi_perform(multi, running); }
CURLMcode CCurl_multi_poll(CURLM *multi, int timeoutMilliseconds, int *descriptors) {
  return api.multi_poll(multi, NULL, 0, timeoutMilliseconds, descriptors);
}
const char *CCurl_multi_strerror(CURLMcode code) { return api.multi_strerror(code); }

int CCurl_multi_next_done(CURLM *multi, CURL **handle, CURLcode *result) {
  int queued = 0;
  CURLMsg *message;
  while ((message = api.multi_info_read(multi, &queued)) != NULL) {
    if (message->msg == CURLMSG_DONE) {
      *handle = message->easy_handle;
      *result = message->data.result;
      return 1;
    }
  }
  return 0;
}
