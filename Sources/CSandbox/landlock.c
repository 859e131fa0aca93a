// landlock.c: the child's Landlock ruleset (raw syscalls only, like all of child.c).
//
// The ruleset handles every filesystem right the running kernel knows, so whatever is
// not granted here is refused: execute (and read) the executable itself, read beneath the
// read-only paths, read and write beneath the read-write paths, nothing else. On ABI 6
// and later it also scopes signals and abstract Unix sockets to the domain.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// The build host's <linux/landlock.h> may predate the running kernel (Debian 12's stops
// at ABI 2): these values are part of the kernel ABI and never change.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

// struct landlock_ruleset_attr as of ABI 6. An older kernel accepts the longer struct as
// long as the fields it does not know are zero.
struct nk_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;  // left 0: socket() is refused by seccomp anyway
    uint64_t scoped;
};

// Rights that apply to a file itself; a rule on a non-directory may only carry these.
#define FILE_RIGHTS                                                                    \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                        \
     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define READ_ONLY_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

// Read, write, create, remove, rename beneath the path. Not: execute, device nodes,
// device ioctls.
#define READ_WRITE_RIGHTS                                                               \
    (READ_ONLY_RIGHTS | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |     \
     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                     \
     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER)

// Every filesystem right the given ABI knows.
static uint64_t handled_fs_rights(long abi) {
    uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: EXECUTE..MAKE_SYM
    if (abi >= 2)
        rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return rights;
}

// Grants `rights` (cut down to what is handled and, for a file, to file rights)
// beneath the O_PATH fd. Returns 0 or an errno.
static int allow_beneath(int ruleset, int fd, uint64_t rights, uint64_t handled) {
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0)
        return errno;
    if (!S_ISDIR(st.st_mode))
        rights &= FILE_RIGHTS;
    struct landlock_path_beneath_attr rule = {.allowed_access = rights & handled,
                                              .parent_fd = fd};
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
        return errno;
    return 0;
}

static void allow_paths(int ruleset, const char *const *paths, int count, uint64_t rights,
                        uint64_t handled, enum nk_step step, int channel) {
    for (int i = 0; i < count; i++) {
        long fd = syscall(SYS_openat, AT_FDCWD, paths[i], O_PATH | O_CLOEXEC);
        int error = fd < 0 ? errno : allow_beneath(ruleset, (int)fd, rights, handled);
        if (fd >= 0)
            syscall(SYS_close, fd);
        if (error != 0)
            nk_child_fail(channel, step, i, error);
    }
}

void nk_child_landlock(const nk_spawn_spec *spec, int exe_fd, int channel) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1)
        nk_child_fail(channel, NK_STEP_LANDLOCK_ABI, 0, errno);
    uint64_t handled = handled_fs_rights(abi);
    struct nk_ruleset_attr attr = {
        .handled_access_fs = handled,
        .scoped = abi >= 6 ? LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET : 0,
    };
    long ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        nk_child_fail(channel, NK_STEP_LANDLOCK_RULESET, 0, errno);

    int error = allow_beneath((int)ruleset, exe_fd,
                              LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE, handled);
    if (error != 0)
        nk_child_fail(channel, NK_STEP_LANDLOCK_EXE, 0, error);
    allow_paths((int)ruleset, spec->read_only_paths, spec->read_only_count, READ_ONLY_RIGHTS,
                handled, NK_STEP_LANDLOCK_READ_ONLY, channel);
    allow_paths((int)ruleset, spec->read_write_paths, spec->read_write_count, READ_WRITE_RIGHTS,
                handled, NK_STEP_LANDLOCK_READ_WRITE, channel);

    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
        nk_child_fail(channel, NK_STEP_LANDLOCK_RESTRICT, 0, errno);
    syscall(SYS_close, ruleset);
}
