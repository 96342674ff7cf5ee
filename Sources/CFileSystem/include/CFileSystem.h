#ifndef CFILESYSTEM_H
#define CFILESYSTEM_H

// File-system calls Swift's Glibc module does not declare (they need _GNU_SOURCE).

/// Swaps the directory entries `from` and `to` atomically (renameat2 with RENAME_EXCHANGE); both must
/// exist. Returns 0, or -1 with errno set (ENOENT, EINVAL where the file system cannot exchange).
int CFileSystem_exchange(const char *from, const char *to);

/// A new file that lives in memory only (memfd_create, close-on-exec, not executable). Returns its
/// descriptor, or -1 with errno set.
int CFileSystem_memoryFile(const char *name);

#endif
