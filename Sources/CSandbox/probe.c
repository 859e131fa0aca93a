// probe.c: what this host lets a domain have, asked of the running kernel once at boot.
//
// Namespaces are tried for real, in a throwaway clone3 child that exits at once: whether
// they work depends on privileges, sysctls and the container we may run in, none of
// which a version number tells.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int clone_works(uint64_t flags) {
    struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0)
        syscall(SYS_exit_group, 0);  // raw: a copy of a multithreaded process
    if (pid < 0)
        return 0;  // EPERM, EINVAL, ENOSPC (a namespace count limit), ...
    while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return 1;
}

// A domain's own root needs more than a mount namespace: mounting a tmpfs and a proc of
// its own, which a container may deny (a proc with masked paths cannot be mounted again
// from a user namespace). A throwaway child tries the mounts root.c makes.
static int own_root_works(uint32_t namespaces) {
    if (!(namespaces & NK_NS_MOUNT) || !(namespaces & NK_NS_PID))
        return 0;
    struct clone_args args = {.flags = nk_namespace_clone_flags(namespaces & (NK_NS_USER | NK_NS_MOUNT | NK_NS_PID)),
                              .exit_signal = SIGCHLD};
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {  // raw syscalls only: a copy of a multithreaded process
        // Both stacked on /tmp: without uid maps (nobody writes them here) the child may
        // mount but not create a directory.
        int ok = syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                 syscall(SYS_mount, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") == 0 &&
                 syscall(SYS_mount, "proc", "/tmp", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") == 0;
        syscall(SYS_exit_group, ok ? 0 : 1);
    }
    if (pid < 0)
        return 0;
    int status = 0;
    while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int nk_probe_host(nk_host_support *out) {
    // Each other namespace is tried inside a new user namespace when there is one, the
    // way nk_spawn_domain asks for them together (and the only way an unprivileged
    // kernel can have them).
    uint32_t user = clone_works(CLONE_NEWUSER) ? NK_NS_USER : 0;
    out->namespaces = user;
    for (uint32_t ns = NK_NS_PID; ns <= NK_NS_CGROUP; ns <<= 1)
        if (clone_works(nk_namespace_clone_flags(ns | user)))
            out->namespaces |= ns;

    out->own_root = own_root_works(out->namespaces);

    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    out->landlock_abi = abi > 0 ? (int)abi : 0;
    out->landlock_scoped = abi >= 6;

    uint32_t notify = SECCOMP_RET_USER_NOTIF;
    out->seccomp_notify = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &notify) == 0;
    return 0;
}
