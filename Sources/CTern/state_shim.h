/*
 * C helpers for the State module (crash-safe files, journal, directory lock).
 * Included by module.modulemap after shim.h.
 */
#ifndef TERN_STATE_SHIM_H
#define TERN_STATE_SHIM_H

#include <errno.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/// `flock(fd, LOCK_EX | LOCK_NB)`: 0, or -1 and errno (EWOULDBLOCK when another open file holds it).
static inline int tern_flock_exclusive_nonblocking(int fd) {
    return flock(fd, LOCK_EX | LOCK_NB);
}

/// `flock(fd, LOCK_UN)`: 0, or -1 and errno.
static inline int tern_flock_unlock(int fd) {
    return flock(fd, LOCK_UN);
}

/// `pread` with a 64-bit offset (fails with EOVERFLOW when off_t is 32 bits and the offset does not fit).
static inline long tern_pread(int fd, void *buffer, unsigned long count, int64_t offset) {
    if ((int64_t)(off_t)offset != offset) { errno = EOVERFLOW; return -1; }
    return (long)pread(fd, buffer, (size_t)count, (off_t)offset);
}

/// `pwrite` with a 64-bit offset (fails with EOVERFLOW when off_t is 32 bits and the offset does not fit).
static inline long tern_pwrite(int fd, const void *buffer, unsigned long count, int64_t offset) {
    if ((int64_t)(off_t)offset != offset) { errno = EOVERFLOW; return -1; }
    return (long)pwrite(fd, buffer, (size_t)count, (off_t)offset);
}

/// `ftruncate` with a 64-bit length (EOVERFLOW when it does not fit off_t).
static inline int tern_ftruncate(int fd, int64_t length) {
    if ((int64_t)(off_t)length != length) { errno = EOVERFLOW; return -1; }
    return ftruncate(fd, (off_t)length);
}

/// The size in bytes of the open file `fd` (fstat's st_size), or -1 and errno.
static inline int64_t tern_file_size(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    return (int64_t)st.st_size;
}

/// The permission bits (st_mode & 07777) of the open file `fd`, or -1 and errno.
static inline int tern_file_mode(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    return (int)(st.st_mode & 07777);
}

/// The owner uid of the open file `fd` (fstat's st_uid) into `*owner`: 0, or -1 and errno.
static inline int tern_file_owner(int fd, uint32_t *owner) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    *owner = (uint32_t)st.st_uid;
    return 0;
}

/// 1 if `path` itself is a symbolic link (lstat, never followed), 0 if not, -1 and errno if lstat fails.
static inline int tern_is_symbolic_link(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    return S_ISLNK(st.st_mode) ? 1 : 0;
}

#endif
