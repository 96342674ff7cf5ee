// Baseline: only the file-system calls with which a steady-state provide rewrites a record's expiry
// companion (FileIO.replaceFile with durable: false, keepingTemporaryFolder: true): check the kept
// .pullwarden-tmp folder (made on the first run), create and write a temporary file, exchange it with
// the companion (renameat2 RENAME_EXCHANGE) and remove the old content, list the folder (the sweep).
// No parsing, no fsync. Its cost is the file system's, so compare it with provide's on the same disk:
// the minimal C plugin writes nothing.
//
//   record-write DIRECTORY
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *directory = argc > 1 ? argv[1] : ".";
  char folder[4096], temporary[4200], record[4200];
  snprintf(folder, sizeof folder, "%s/.pullwarden-tmp", directory);
  snprintf(temporary, sizeof temporary, "%s/.record.%d.1.tmp", folder, (int)getpid());
  snprintf(record, sizeof record, "%s/record", directory);
  struct stat info;
  if (lstat(folder, &info) != 0 && mkdir(folder, 0700) != 0) return 1;
  int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return 1;
  static const char body[] = "{\"kind\":\"CredentialExpiry\",\"apiVersion\":\"pullwarden.dev/v1alpha1\","
                             "\"lastUpdatedTime\":\"2023-11-14T22:13:20Z\",\"imageRef\":\"registry.example.com/app\"}\n";
  if (write(fd, body, sizeof body - 1) != (ssize_t)(sizeof body - 1) || close(fd) != 0) return 1;
  if (renameat2(AT_FDCWD, temporary, AT_FDCWD, record, RENAME_EXCHANGE) == 0) {
    if (unlink(temporary) != 0) return 1;
  } else if (errno != ENOENT || rename(temporary, record) != 0) {
    return 1;
  }
  DIR *listing = opendir(folder);
  if (!listing) return 1;
  while (readdir(listing)) {}
  closedir(listing);
  return 0;
}
