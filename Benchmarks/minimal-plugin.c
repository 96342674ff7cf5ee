// Baseline: the practical lower limit for a credential provider. Reads the request with jansson
// (duplicate keys rejected, as Pullwarden does), checks kind, echoes apiVersion, and prints a fixed
// response. No config, no sources, no records.
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  static char buffer[1 << 20];
  size_t length = 0;
  ssize_t got;
  while ((got = read(0, buffer + length, sizeof buffer - length)) > 0) length += (size_t)got;
  json_error_t error;
  json_t *request = json_loadb(buffer, length, JSON_REJECT_DUPLICATES, &error);
  if (!request) { fprintf(stderr, "minimal-plugin: %s\n", error.text); return 1; }
  const char *kind = json_string_value(json_object_get(request, "kind"));
  const char *version = json_string_value(json_object_get(request, "apiVersion"));
  if (!kind || strcmp(kind, "CredentialProviderRequest") || !version) { json_decref(request); return 1; }
  printf("{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"%s\",\"cacheKeyType\":\"Image\","
         "\"cacheDuration\":\"5m0s\",\"auth\":{\"registry.example.com\":{\"username\":\"user\",\"password\":\"password\"}}}\n",
         version);
  json_decref(request);
  return 0;
}
