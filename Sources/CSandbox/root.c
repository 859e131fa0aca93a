// root.c: the domain's own root (raw syscalls only, like all of child.c).
//
// A domain sees no host paths: its root is an empty tmpfs holding only its executable
// and the paths its image grants, each bind-mounted at the path it has on the host, and a
// proc of its own pid namespace. The approach is bubblewrap's and nsjail's (new mount
// namespace, tmpfs, bind mounts, pivot_root, detach the old root); the code is ours.
//
// Every grant is captured first, as a detached copy of its mount (open_tree), while the
// host's paths still resolve as the kernel resolved them (symlinks included). Only then
// is the tmpfs mounted, on /tmp, which may hide a grant beneath /tmp: the copies are
// already held. Each copy is made read-only where the grant says so (mount_setattr sets
// only the flags it names, so flags the host locked on the original stay as they are),
// moved onto an empty mount point in the tmpfs, and the tmpfs becomes the root.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// Where the new root is built before it becomes "/" (bubblewrap uses /tmp too). Mounts in
// the domain's private mount namespace never reach the host's /tmp.
static const char base[] = "/tmp";

// A grant to carry into the new root.
typedef struct {
    const char *path;
    uint64_t attributes;  // MOUNT_ATTR_* to set on the copy
    enum nk_step step;
    int index;
    int tree;             // the detached copy (open_tree), -1 before it is made
} grant;

// Paths under /proc are served by the domain's own proc (mounted below), not the host's.
static int under_proc(const char *path) {
    const char proc[] = "/proc";
    for (int i = 0; proc[i]; i++)
        if (path[i] != proc[i])
            return 0;
    return path[5] == 0 || path[5] == '/';
}

static void copy_grant(grant *g, int channel) {
    g->tree = (int)syscall(SYS_open_tree, AT_FDCWD, g->path,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (g->tree < 0)
        nk_child_fail(channel, g->step, g->index, errno);
    struct mount_attr attr = {.attr_set = g->attributes};
    if (syscall(SYS_mount_setattr, g->tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
        nk_child_fail(channel, g->step, g->index, errno);
}

// base + path into out; fails the step when it does not fit.
static void target_path(char *out, const grant *g, int channel) {
    int n = 0;
    for (const char *s = base; *s; s++)
        out[n++] = *s;
    for (const char *s = g->path; *s; s++) {
        if (n >= PATH_MAX - 1)
            nk_child_fail(channel, g->step, g->index, ENAMETOOLONG);
        out[n++] = *s;
    }
    out[n] = 0;
}

// mkdir -p of every directory above `path` (which starts with base).
static void make_parents(char *path, const grant *g, int channel) {
    for (char *p = path + sizeof base; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        long rc = syscall(SYS_mkdirat, AT_FDCWD, path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            nk_child_fail(channel, g->step, g->index, errno);
    }
}

// An empty directory or file, matching what the copy is, for it to be mounted on.
static void make_mount_point(const char *path, int tree, const grant *g, int channel) {
    struct stat st;
    if (syscall(SYS_fstat, tree, &st) != 0)
        nk_child_fail(channel, g->step, g->index, errno);
    long rc;
    if (S_ISDIR(st.st_mode))
        rc = syscall(SYS_mkdirat, AT_FDCWD, path, 0755);
    else
        rc = syscall(SYS_mknodat, AT_FDCWD, path, S_IFREG | 0644, 0);
    if (rc != 0 && errno != EEXIST)  // two grants may share a path
        nk_child_fail(channel, g->step, g->index, errno);
}

static void place_grant(grant *g, int channel) {
    char path[PATH_MAX];
    target_path(path, g, channel);
    make_parents(path, g, channel);
    make_mount_point(path, g->tree, g, channel);
    if (syscall(SYS_move_mount, g->tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0)
        nk_child_fail(channel, g->step, g->index, errno);
    syscall(SYS_close, g->tree);
    g->tree = -1;
}

// The domain's proc: only its own pid namespace's processes (subset=pid: no /proc/sys,
// /proc/kcore or other host facts, just the pid directories and self).
static void mount_own_proc(int channel) {
    char path[sizeof base + sizeof "/proc"];
    int n = 0;
    for (const char *s = base; *s; s++)
        path[n++] = *s;
    for (const char *s = "/proc"; *s; s++)
        path[n++] = *s;
    path[n] = 0;
    if (syscall(SYS_mkdirat, AT_FDCWD, path, 0555) != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PROC, 0, errno);
    if (syscall(SYS_mount, "proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PROC, 1, errno);
}

// The tmpfs becomes "/"; the host's root, stacked on it by pivot_root(".", "."), is
// detached, and the tmpfs is made read-only (its mount points are all it holds).
static void pivot_into(int channel) {
    if (syscall(SYS_chdir, base) != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PIVOT, 0, errno);
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PIVOT, 1, errno);
    if (syscall(SYS_umount2, ".", MNT_DETACH) != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PIVOT, 2, errno);
    if (syscall(SYS_chdir, "/") != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PIVOT, 3, errno);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof attr) != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PIVOT, 4, errno);
}

void nk_child_enter_own_root(const nk_spawn_spec *spec, int channel) {
    // Nothing mounted from here on may propagate back to the host.
    if (syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        nk_child_fail(channel, NK_STEP_ROOT_PRIVATE, 0, errno);

    const uint64_t read_only = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    grant grants[1 + NK_MAX_GRANTS];
    int count = 0;
    for (int i = 0; i < spec->read_only_count; i++)
        if (!under_proc(spec->read_only_paths[i]))
            grants[count++] = (grant){spec->read_only_paths[i], read_only | MOUNT_ATTR_NOEXEC,
                                      NK_STEP_ROOT_READ_ONLY, i, -1};
    for (int i = 0; i < spec->read_write_count; i++)
        if (!under_proc(spec->read_write_paths[i]))
            grants[count++] = (grant){spec->read_write_paths[i],
                                      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                      NK_STEP_ROOT_READ_WRITE, i, -1};
    // Last, so that no grant mounted over its directory can hide it (or make it noexec).
    grants[count++] = (grant){spec->executable, read_only, NK_STEP_ROOT_EXE, 0, -1};
    for (int i = 0; i < count; i++)
        copy_grant(&grants[i], channel);

    if (syscall(SYS_mount, "tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0755,size=64k") != 0)
        nk_child_fail(channel, NK_STEP_ROOT_TMPFS, 0, errno);
    mount_own_proc(channel);
    for (int i = 0; i < count; i++)
        place_grant(&grants[i], channel);
    pivot_into(channel);
}
