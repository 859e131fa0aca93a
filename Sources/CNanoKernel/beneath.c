// Path resolution that cannot leave a directory: openat2 with RESOLVE_* flags (Linux 5.6+),
// which glibc does not wrap, and renameat2, which static glibc may route through the
// older renameat. The file service resolves every client path through these.
#define _GNU_SOURCE
#include "nk_syscalls.h"
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

int nk_openat2(int dirfd, const char *path, int flags, unsigned mode, uint64_t resolve) {
    struct open_how how = {.flags = (uint64_t)(unsigned)flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int nk_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}
