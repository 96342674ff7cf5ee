#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "CFileSystem.h"

int CFileSystem_exchange(const char *from, const char *to) {
  return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

int CFileSystem_memoryFile(const char *name) {
  // Not executable: kernels with vm.memfd_noexec=2 refuse executable memfds. Kernels older than 6.3
  // do not know the flag (EINVAL). The caller dup2s the file to fd 0, which clears close-on-exec.
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_NOEXEC_SEAL);
  if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC);
  return fd;
}
