// Sealed memfds: the kernel's only way to create memory shared by two domains.
#define _GNU_SOURCE
#include "nk_syscalls.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

int nk_memfd_sealed(const char *name, size_t size) {
    // NOEXEC_SEAL keeps a hostile domain from writing an ELF into shared memory
    // and executing it; older hosts reject the flag, so retry without it.
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)size) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int nk_memfd_seals(int fd) { return fcntl(fd, F_GET_SEALS); }
