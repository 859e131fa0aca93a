// spawn.c: the kernel's side of nk_spawn_domain.
//
// No fork(): the kernel is a multithreaded Swift process. clone3 without CLONE_VM gives a
// child with a copy of this thread only, and child.c runs in it with raw syscalls alone.
// Namespaces are requested in clone3 itself, so the child is born in them (a pid
// namespace made by unshare would only hold the child's children).
//
// The two sides talk over a SOCK_SEQPACKET socketpair, the spawn channel:
//   parent: write uid/gid maps (user namespace), then send "go"
//   child:  set itself up, then send READY (with the seccomp listener) or FAILED
//   child:  execveat; its end is O_CLOEXEC, so success reads as end-of-file
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const step_names[] = {
    [NK_STEP_WAIT_GO] = "waiting for the kernel's go-ahead",
    [NK_STEP_SIGNALS] = "resetting signal handlers",
    [NK_STEP_PDEATHSIG] = "prctl(PR_SET_PDEATHSIG)",
    [NK_STEP_SETSID] = "setsid",
    [NK_STEP_IDENTITY] = "becoming root of its user namespace",
    [NK_STEP_RESERVE_FDS] = "moving private fds to 1000/1001",
    [NK_STEP_KEEP_FD] = "placing kept fd",
    [NK_STEP_NULL_INPUT] = "opening /dev/null as its input",
    [NK_STEP_OUTPUT] = "redirecting output to the kernel",
    [NK_STEP_ROOT_PRIVATE] = "making its mount namespace private",
    [NK_STEP_ROOT_EXE] = "carrying the executable into its own root",
    [NK_STEP_ROOT_READ_ONLY] = "carrying a read-only path into its own root",
    [NK_STEP_ROOT_READ_WRITE] = "carrying a read-write path into its own root",
    [NK_STEP_ROOT_TMPFS] = "mounting the tmpfs of its own root on /tmp",
    [NK_STEP_ROOT_PROC] = "mounting its own /proc",
    [NK_STEP_ROOT_PIVOT] = "entering its own root",
    [NK_STEP_OPEN_EXE] = "opening the executable",
    [NK_STEP_CLOSE_FDS] = "closing inherited fds (close_range)",
    [NK_STEP_CAPABILITIES] = "dropping capabilities",
    [NK_STEP_NO_NEW_PRIVS] = "prctl(PR_SET_NO_NEW_PRIVS)",
    [NK_STEP_LANDLOCK_ABI] = "Landlock (landlock_create_ruleset version)",
    [NK_STEP_LANDLOCK_RULESET] = "creating the Landlock ruleset",
    [NK_STEP_LANDLOCK_EXE] = "Landlock rule for the executable",
    [NK_STEP_LANDLOCK_READ_ONLY] = "Landlock read-only path",
    [NK_STEP_LANDLOCK_READ_WRITE] = "Landlock read-write path",
    [NK_STEP_LANDLOCK_RESTRICT] = "landlock_restrict_self",
    [NK_STEP_RLIMIT] = "setting rlimit",
    [NK_STEP_SIGNAL_MASK] = "unblocking signals",
    [NK_STEP_SECCOMP] = "loading the seccomp filter",
    [NK_STEP_SEND_LISTENER] = "sending the seccomp listener to the kernel",
    [NK_STEP_EXEC] = "execveat",
};

// The detail an indexed step needs to be understood without reading child.c.
static void step_detail(const nk_spawn_spec *spec, const nk_child_msg *msg, char *out,
                        size_t len) {
    int i = msg->index;
    out[0] = 0;
    if (msg->step == NK_STEP_KEEP_FD && i >= 0 && i < spec->keep_fd_count)
        snprintf(out, len, " keep_fds[%d] (fd %d)", i, spec->keep_fds[i]);
    else if (msg->step == NK_STEP_RLIMIT)
        snprintf(out, len, " %s", i == RLIMIT_AS       ? "RLIMIT_AS"
                                  : i == RLIMIT_NOFILE ? "RLIMIT_NOFILE"
                                  : i == RLIMIT_NPROC  ? "RLIMIT_NPROC"
                                                       : "RLIMIT_CORE");
    else if ((msg->step == NK_STEP_LANDLOCK_READ_ONLY || msg->step == NK_STEP_ROOT_READ_ONLY) &&
             i >= 0 && i < spec->read_only_count)
        snprintf(out, len, " \"%s\"", spec->read_only_paths[i]);
    else if ((msg->step == NK_STEP_LANDLOCK_READ_WRITE || msg->step == NK_STEP_ROOT_READ_WRITE) &&
             i >= 0 && i < spec->read_write_count)
        snprintf(out, len, " \"%s\"", spec->read_write_paths[i]);
    else if (msg->step == NK_STEP_IDENTITY)
        snprintf(out, len, " (%s)", i == 0 ? "setgroups" : i == 1 ? "setresgid" : "setresuid");
    else if (msg->step == NK_STEP_ROOT_PIVOT)
        snprintf(out, len, " (%s)", i == 0 ? "chdir" : i == 1 ? "pivot_root" : i == 2 ? "detaching the host's root"
                                    : i == 3 ? "chdir /" : "making it read-only");
    else if (msg->step == NK_STEP_CAPABILITIES)
        snprintf(out, len, " (%s)", i == 0 ? "bounding set" : i == 1 ? "ambient set" : "capset");
    else if (msg->step == NK_STEP_SIGNALS || msg->step == NK_STEP_RESERVE_FDS)
        snprintf(out, len, " (%s %d)", msg->step == NK_STEP_SIGNALS ? "signal" : "fd", i);
}

static int child_failed(const nk_spawn_spec *spec, const nk_child_msg *msg, char *err,
                        size_t err_len) {
    if (msg->step < NK_STEP_WAIT_GO || msg->step > NK_STEP_EXEC)
        return nk_error(err, err_len, "spawn %s: child sent a malformed report", spec->executable);
    char detail[320];
    step_detail(spec, msg, detail, sizeof detail);
    // The confusing cases: a #! script's interpreter cannot reopen an O_CLOEXEC fd; and a
    // root kernel's domains run as their own unprivileged uid by then (outside_id), so the
    // kernel may reach a path they cannot.
    int path_step = msg->step == NK_STEP_OPEN_EXE || msg->step == NK_STEP_EXEC ||
                    msg->step == NK_STEP_LANDLOCK_READ_ONLY || msg->step == NK_STEP_LANDLOCK_READ_WRITE ||
                    msg->step == NK_STEP_ROOT_EXE || msg->step == NK_STEP_ROOT_READ_ONLY ||
                    msg->step == NK_STEP_ROOT_READ_WRITE;
    const char *hint = msg->step == NK_STEP_EXEC && msg->error == ENOENT
                           ? " (domains must be ELF executables, not scripts)"
                       : path_step && msg->error == EACCES && geteuid() == 0 && (spec->namespaces & NK_NS_USER)
                           ? " (a root kernel's domains run as a uid of their own, shown by nkctl status: "
                             "others need search permission on every directory of the path, and execute "
                             "permission on the executable)"
                           : "";
    return nk_error(err, err_len, "spawn %s: %s%s: %s (errno %d)%s", spec->executable,
                    step_names[msg->step], detail, strerror(msg->error), msg->error, hint);
}

static int validate(const nk_spawn_spec *spec, char *err, size_t err_len) {
    if (spec->executable == NULL || spec->executable[0] != '/')
        return nk_error(err, err_len, "spawn: executable must be an absolute path");
    if (spec->argv == NULL)
        return nk_error(err, err_len, "spawn %s: argv is NULL", spec->executable);
    if (spec->keep_fd_count < 0 || spec->keep_fd_count > NK_MAX_KEEP_FDS)
        return nk_error(err, err_len, "spawn %s: %d kept fds (at most %d)", spec->executable,
                        spec->keep_fd_count, NK_MAX_KEEP_FDS);
    for (int i = 0; i < spec->keep_fd_count; i++) {
        int fd = spec->keep_fds[i];
        if (fd < 0 || fd >= NK_FD_EXE || fcntl(fd, F_GETFD) < 0)
            return nk_error(err, err_len, "spawn %s: keep_fds[%d] = %d is not an open fd below %d",
                            spec->executable, i, fd, NK_FD_EXE);
    }
    // 0-2, the kept fds and, while spawning, the seccomp listener must fit.
    if (spec->limit_open_files && spec->limit_open_files < 4 + (uint64_t)spec->keep_fd_count)
        return nk_error(err, err_len, "spawn %s: limit_open_files %llu is below the %d fds a "
                        "domain starts with", spec->executable,
                        (unsigned long long)spec->limit_open_files, 4 + spec->keep_fd_count);
    if (spec->read_only_count < 0 || spec->read_write_count < 0 ||
        spec->read_only_count + spec->read_write_count > NK_MAX_GRANTS)
        return nk_error(err, err_len, "spawn %s: %d read-only and %d read-write paths (at most %d in all)",
                        spec->executable, spec->read_only_count, spec->read_write_count, NK_MAX_GRANTS);
    if (spec->own_root && (spec->namespaces & (NK_NS_MOUNT | NK_NS_PID)) != (NK_NS_MOUNT | NK_NS_PID))
        return nk_error(err, err_len, "spawn %s: an own root needs mount and pid namespaces", spec->executable);
    if (spec->filter && (spec->filter->bytes == NULL || spec->filter->instructions == 0))
        return nk_error(err, err_len, "spawn %s: empty seccomp filter", spec->executable);
    return 0;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

// The id the domain has outside its user namespace. An unprivileged kernel maps its own
// uid and gid (the one mapping it may write). A kernel running as root must not: a
// process whose real uid is host root is exempt from RLIMIT_NPROC, so the domain's
// process limit would not hold (a thread bomb could take every pid on the host), and
// every root-owned file Landlock lets it reach would be its own. Its domains run as the
// id the kernel chose for the service (spec->outside_id, one per service, so the per-user
// counters Linux keeps are per domain), or as the overflow ids ("nobody") without one.
static unsigned outside_id(unsigned id, unsigned chosen, const char *overflow_file) {
    if (id != 0)
        return id;
    if (chosen != 0)
        return chosen;
    unsigned overflow = 65534;
    char text[16] = {0};
    int fd = open(overflow_file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, text, sizeof text - 1) > 0)
            sscanf(text, "%u", &overflow);
        close(fd);
    }
    return overflow;
}

// Root inside the new user namespace is the outside id above; the child then takes it
// (child.c: become_namespace_root). It holds no capability by the time it executes, so
// this root owns nothing but its own namespaces.
static int write_id_maps(const nk_spawn_spec *spec, pid_t pid, char *err, size_t err_len) {
    char path[64], text[64];
    struct { const char *file; unsigned id; } maps[] = {
        {"setgroups", 0},
        {"gid_map", outside_id(getegid(), spec->outside_id, "/proc/sys/kernel/overflowgid")},
        {"uid_map", outside_id(geteuid(), spec->outside_id, "/proc/sys/kernel/overflowuid")}};
    // An unprivileged kernel may write gid_map only once setgroups is denied, which
    // leaves the child its supplementary groups (the kernel's own, harmless). Root
    // leaves setgroups allowed, so the child can drop root's groups.
    for (size_t i = geteuid() == 0 ? 1 : 0; i < sizeof maps / sizeof maps[0]; i++) {
        snprintf(path, sizeof path, "/proc/%d/%s", pid, maps[i].file);
        if (i == 0)
            snprintf(text, sizeof text, "deny");
        else
            snprintf(text, sizeof text, "0 %u 1\n", maps[i].id);
        if (write_file(path, text) != 0)
            return nk_error(err, err_len, "spawn %s: writing %s: %s", spec->executable, path,
                            strerror(errno));
    }
    return 0;
}

// Receives one message; an SCM_RIGHTS fd that comes with it lands in *fd.
static ssize_t receive(int channel, nk_child_msg *msg, int *fd) {
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof *msg};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr header = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    ssize_t n;
    do
        n = recvmsg(channel, &header, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&header) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof(int));
    return n;
}

// Why the child went away without a report: reap it and say how it ended.
static int child_vanished(const nk_spawn_spec *spec, int pidfd, char *err, size_t err_len) {
    siginfo_t info = {0};
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) != 0)
        return nk_error(err, err_len, "spawn %s: the child vanished before execve",
                        spec->executable);
    if (info.si_code == CLD_EXITED)
        return nk_error(err, err_len, "spawn %s: the child exited with status %d before execve",
                        spec->executable, info.si_status);
    return nk_error(err, err_len, "spawn %s: the child was killed by signal %d before execve",
                    spec->executable, info.si_status);
}

// Runs the parent's half of the handshake; on success the child has executed.
static int handshake(const nk_spawn_spec *spec, int channel, nk_spawned *out, char *err,
                     size_t err_len) {
    if ((spec->namespaces & NK_NS_USER) && write_id_maps(spec, out->pid, err, err_len) != 0)
        return -1;
    // EPIPE: the child is gone already (it may have failed before waiting for us); the
    // loop below reads its report or the end-of-file.
    char go = 1;
    if (send(channel, &go, 1, MSG_NOSIGNAL) != 1 && errno != EPIPE)
        return nk_error(err, err_len, "spawn %s: sending go to the child: %s",
                        spec->executable, strerror(errno));
    int ready = 0;
    for (;;) {
        nk_child_msg msg;
        int fd = -1;
        ssize_t n = receive(channel, &msg, &fd);
        if (fd >= 0)
            out->notify_fd = fd;
        if (n < 0)
            return nk_error(err, err_len, "spawn %s: reading the spawn channel: %s",
                            spec->executable, strerror(errno));
        if (n == 0)  // the child's end closed: by execveat after READY, by death before
            return ready ? 0 : child_vanished(spec, out->pidfd, err, err_len);
        if (n != sizeof msg)
            return nk_error(err, err_len, "spawn %s: child sent a malformed report",
                            spec->executable);
        if (msg.kind == NK_MSG_FAILED)
            return child_failed(spec, &msg, err, err_len);
        ready = 1;
    }
}

static void discard_child(nk_spawned *out) {
    syscall(SYS_pidfd_send_signal, out->pidfd, SIGKILL, NULL, 0);
    siginfo_t info;
    waitid((idtype_t)P_PIDFD, (id_t)out->pidfd, &info, WEXITED);  // ECHILD if reaped already
    close(out->pidfd);
    if (out->notify_fd >= 0)
        close(out->notify_fd);
}

int nk_spawn_domain(const nk_spawn_spec *spec, nk_spawned *out, char *err, size_t err_len) {
    if (validate(spec, err, err_len) != 0)
        return -1;
    int ends[2];  // [0] the kernel's, [1] the child's
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
        return nk_error(err, err_len, "spawn %s: socketpair: %s", spec->executable,
                        strerror(errno));

    // With every signal blocked in this thread, none can reach the child before it has
    // reset the handlers it inherits from us (child.c).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd = -1;
    struct clone_args args = {
        .flags = CLONE_PIDFD | nk_namespace_clone_flags(spec->namespaces),
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0)
        nk_child_main(spec, ends[1], ends[0]);
    int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(ends[1]);
    if (pid < 0) {
        close(ends[0]);
        return nk_error(err, err_len, "spawn %s: clone3: %s", spec->executable,
                        strerror(clone_error));
    }

    *out = (nk_spawned){.pid = (pid_t)pid, .pidfd = pidfd, .notify_fd = -1};
    int rc = handshake(spec, ends[0], out, err, err_len);
    close(ends[0]);
    if (rc != 0)
        discard_child(out);
    return rc;
}
