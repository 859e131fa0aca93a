// learn.c: the paths a learning domain names (`nkctl boot --learn`).
//
// In learning mode the filter sends the path-taking calls to the kernel too (filter.c,
// watch_paths), and this file turns one such notification into the paths it names, each
// made absolute against the calling thread's cwd or directory fd. The domain is still
// untrusted: every string is read with one bounded pread of /proc/<tid>/mem (a bad
// pointer reads nothing, an unterminated string is cut at the buffer and marked), the
// directory names come from readlink of /proc/<tid>/cwd and /proc/<tid>/fd/<n>, and the
// result is used only if the notification is still pending afterwards (NOTIF_ID_VALID),
// so a pid that died and was reused in between cannot lend its paths. Nothing here
// waits on the domain.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

// Where a call keeps its paths: argument positions of the directory fd (-1: AT_FDCWD)
// and of the path, for up to two paths, and what the call does to each.
typedef struct {
    int nr;
    signed char dirfd[2], path[2];
    unsigned char access[2];
    signed char flags;      // argument holding open flags (-1: none; -2: openat2's how)
    signed char at_flags;   // argument holding AT_* flags (-1: none)
} path_call;

#define ONE(nr, d, p, a, f, at) {nr, {d, -1}, {p, -1}, {a, 0}, f, at}
#define TWO(nr, d0, p0, a0, d1, p1, a1) {nr, {d0, d1}, {p0, p1}, {a0, a1}, -1, -1}

static const path_call calls[] = {
    ONE(SYS_open, -1, 0, NK_PATH_OPEN, 1, -1),
    ONE(SYS_openat, 0, 1, NK_PATH_OPEN, 2, -1),
    ONE(SYS_openat2, 0, 1, NK_PATH_OPEN, -2, -1),
    ONE(SYS_creat, -1, 0, NK_PATH_CREATE, -1, -1),
    ONE(SYS_stat, -1, 0, NK_PATH_SEE, -1, -1),
    ONE(SYS_lstat, -1, 0, NK_PATH_SEE, -1, -1),
    ONE(SYS_newfstatat, 0, 1, NK_PATH_SEE, -1, 3),
    ONE(SYS_statx, 0, 1, NK_PATH_SEE, -1, 2),
    ONE(SYS_access, -1, 0, NK_PATH_SEE, -1, -1),
    ONE(SYS_faccessat, 0, 1, NK_PATH_SEE, -1, -1),
    ONE(SYS_faccessat2, 0, 1, NK_PATH_SEE, -1, 3),
    ONE(SYS_readlink, -1, 0, NK_PATH_SEE, -1, -1),
    ONE(SYS_readlinkat, 0, 1, NK_PATH_SEE, -1, -1),
    ONE(SYS_statfs, -1, 0, NK_PATH_SEE, -1, -1),
    ONE(SYS_chdir, -1, 0, NK_PATH_SEE, -1, -1),
    ONE(SYS_mkdir, -1, 0, NK_PATH_CREATE, -1, -1),
    ONE(SYS_mkdirat, 0, 1, NK_PATH_CREATE, -1, -1),
    ONE(SYS_mknod, -1, 0, NK_PATH_CREATE, -1, -1),
    ONE(SYS_mknodat, 0, 1, NK_PATH_CREATE, -1, -1),
    ONE(SYS_rmdir, -1, 0, NK_PATH_REMOVE, -1, -1),
    ONE(SYS_unlink, -1, 0, NK_PATH_REMOVE, -1, -1),
    ONE(SYS_unlinkat, 0, 1, NK_PATH_REMOVE, -1, -1),
    ONE(SYS_truncate, -1, 0, NK_PATH_WRITE, -1, -1),
    ONE(SYS_chmod, -1, 0, NK_PATH_WRITE, -1, -1),
    ONE(SYS_fchmodat, 0, 1, NK_PATH_WRITE, -1, -1),
    ONE(SYS_chown, -1, 0, NK_PATH_WRITE, -1, -1),
    ONE(SYS_lchown, -1, 0, NK_PATH_WRITE, -1, -1),
    ONE(SYS_fchownat, 0, 1, NK_PATH_WRITE, -1, 4),
    ONE(SYS_utimensat, 0, 1, NK_PATH_WRITE, -1, 3),
    ONE(SYS_symlink, -1, 1, NK_PATH_CREATE, -1, -1),   // (target, linkpath): only the link is made
    ONE(SYS_symlinkat, 1, 2, NK_PATH_CREATE, -1, -1),
    TWO(SYS_rename, -1, 0, NK_PATH_REMOVE, -1, 1, NK_PATH_CREATE),
    TWO(SYS_renameat, 0, 1, NK_PATH_REMOVE, 2, 3, NK_PATH_CREATE),
    TWO(SYS_renameat2, 0, 1, NK_PATH_REMOVE, 2, 3, NK_PATH_CREATE),
    TWO(SYS_link, -1, 0, NK_PATH_READ, -1, 1, NK_PATH_CREATE),
    TWO(SYS_linkat, 0, 1, NK_PATH_READ, 2, 3, NK_PATH_CREATE),
};

static const path_call *call_for(int nr) {
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (calls[i].nr == nr)
            return &calls[i];
    return NULL;
}

int nk_is_path_syscall(int nr) { return call_for(nr) != NULL; }

// Up to len bytes of the thread's memory at addr, in one pread: a bad pointer or an
// unmapped page ends the read, nothing waits. Returns the bytes read, or -1.
static ssize_t read_memory(pid_t tid, uint64_t addr, void *buffer, size_t len) {
    char path[40];
    snprintf(path, sizeof path, "/proc/%d/mem", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buffer, len, (off_t)addr);
    close(fd);
    return n;
}

// The NUL-terminated string at addr into out (size bytes); 0, or -1 when unreadable
// or longer than out can hold.
static int read_string(pid_t tid, uint64_t addr, char *out, size_t size) {
    ssize_t n = read_memory(tid, addr, out, size);
    if (n <= 0 || memchr(out, 0, (size_t)n) == NULL)
        return -1;
    return 0;
}

// The directory a relative path starts from: the thread's cwd, or where dirfd points.
// Only an absolute answer counts (a pipe or an anonymous inode is no directory).
static int directory_of(pid_t tid, long dirfd, char *out, size_t size) {
    char link[64];
    if (dirfd == AT_FDCWD)
        snprintf(link, sizeof link, "/proc/%d/cwd", tid);
    else if (dirfd >= 0 && dirfd < 1 << 20)
        snprintf(link, sizeof link, "/proc/%d/fd/%ld", tid, dirfd);
    else
        return -1;
    ssize_t n = readlink(link, out, size - 1);
    if (n <= 0 || out[0] != '/')
        return -1;
    out[n] = 0;
    return 0;
}

// dir + "/" + name into out; -1 when it does not fit.
static int join(const char *dir, const char *name, char *out, size_t size) {
    int n = snprintf(out, size, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static uint64_t open_flags(const nk_violation *v, const path_call *c) {
    if (c->flags >= 0)
        return v->args[c->flags];
    if (c->flags == -2) {  // openat2(dirfd, path, struct open_how *how, size)
        struct open_how how = {0};
        if (v->args[3] >= sizeof how.flags &&
            read_memory(v->pid, v->args[2], &how, sizeof how.flags) == (ssize_t)sizeof how.flags)
            return how.flags;
    }
    return 0;
}

static void decode_one(const nk_violation *v, const path_call *c, int i, nk_path_access *out) {
    memset(out, 0, sizeof *out);
    out->access = c->access[i];
    out->flags = c->access[i] == NK_PATH_OPEN ? open_flags(v, c) : 0;
    uint64_t at_flags = c->at_flags >= 0 ? v->args[c->at_flags] : 0;
    // lstat, readlink, unlink, rename, O_NOFOLLOW and AT_SYMLINK_NOFOLLOW name the link itself.
    out->follow = !(v->syscall_nr == SYS_lstat || v->syscall_nr == SYS_readlink ||
                    v->syscall_nr == SYS_readlinkat || c->access[i] == NK_PATH_REMOVE ||
                    c->access[i] == NK_PATH_CREATE || (out->flags & O_NOFOLLOW) ||
                    (c->at_flags >= 0 && (at_flags & AT_SYMLINK_NOFOLLOW)));
    char name[NK_LEARN_PATH_MAX];
    if (read_string(v->pid, v->args[(int)c->path[i]], name, sizeof name) != 0) {
        out->status = NK_PATH_UNREADABLE;
        return;
    }
    if (name[0] == 0) {  // fstatat(fd, "", AT_EMPTY_PATH) and friends: no path at all
        out->status = NK_PATH_NONE;
        return;
    }
    if (name[0] == '/') {
        memcpy(out->path, name, strlen(name) + 1);
        return;
    }
    char dir[NK_LEARN_PATH_MAX];
    long dirfd = c->dirfd[i] < 0 ? AT_FDCWD : (long)(int)v->args[(int)c->dirfd[i]];
    if (directory_of(v->pid, dirfd, dir, sizeof dir) != 0) {
        out->status = NK_PATH_UNRESOLVED;
        return;
    }
    if (join(dir, name, out->path, sizeof out->path) != 0)
        out->status = NK_PATH_UNREADABLE;
}

int nk_learn_paths(const nk_violation *v, int notify_fd, nk_path_access out[2]) {
    const path_call *c = call_for(v->syscall_nr);
    if (c == NULL || v->arch != AUDIT_ARCH_X86_64)
        return 0;
    int count = c->path[1] >= 0 ? 2 : 1;
    for (int i = 0; i < count; i++)
        decode_one(v, c, i, &out[i]);
    uint64_t id = v->id;
    if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
        return -1;  // the thread is gone: what we read may be another process's
    return count;
}

int nk_violation_refuse(int notify_fd, uint64_t id, int error) {
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        return -1;
    size_t size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                      ? sizes.seccomp_notif_resp : sizeof(struct seccomp_notif_resp);
    char buffer[256] = {0};
    if (size > sizeof buffer) {
        errno = EOVERFLOW;
        return -1;
    }
    struct seccomp_notif_resp *response = (struct seccomp_notif_resp *)buffer;
    response->id = id;
    response->error = -error;
    return ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, response);
}
