#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "CFileSystem.h"

int CFileSystem_exchange(const char *from, const char *to) {
  return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}

int CFileSystem_memoryFile(const char *name) { return memfd_create(name, 0); }
