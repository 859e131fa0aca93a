// child.c: the new domain's side of nk_spawn_domain, from clone3 to execveat.
//
// This code runs in a copy of a multithreaded process: at the moment of clone3 another
// thread may have held the malloc or stdio lock, and nothing will ever release it here.
// So only raw system calls until execveat replaces the image: no malloc, no stdio, no
// libc wrapper that might lock. Every failure goes to the parent as (step, index, errno)
// and the child exits.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

// The kernel's struct sigaction, which raw rt_sigaction takes (glibc's differs).
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static long send_msg(int channel, const nk_child_msg *msg, int fd_to_pass) {
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = sizeof *msg};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr header = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd_to_pass >= 0) {
        header.msg_control = control.bytes;
        header.msg_controllen = sizeof control.bytes;
        struct cmsghdr *c = CMSG_FIRSTHDR(&header);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        *(int *)CMSG_DATA(c) = fd_to_pass;
    }
    // sendmsg, not send: it is one of the few calls the seccomp filter lets through.
    return syscall(SYS_sendmsg, channel, &header, MSG_NOSIGNAL);
}

_Noreturn void nk_child_fail(int channel, enum nk_step step, int index, int error) {
    nk_child_msg msg = {.kind = NK_MSG_FAILED, .step = step, .index = index, .error = error};
    send_msg(channel, &msg, -1);
    syscall(SYS_exit_group, 127);
    __builtin_unreachable();
}

// Handlers the parent installed (the Swift runtime's, say) must never run in this copy,
// and SIG_IGN would survive execve: start the service with every disposition at default.
// The parent blocked all signals around clone3, so none can arrive before this.
static void reset_signal_handlers(int channel) {
    struct kernel_sigaction dfl = {.handler = SIG_DFL};
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask) != 0)
            nk_child_fail(channel, NK_STEP_SIGNALS, sig, errno);
    }
}

// The parent writes our uid/gid maps (if we have a user namespace) and then sends one
// byte. We closed our copy of the parent's end first, so if the parent dies instead we
// read end-of-file. Once the byte arrives the parent was alive after PR_SET_PDEATHSIG was
// armed, which is the guarantee a getppid() check would give (getppid() is 0 in a new
// pid namespace, so it cannot be used here).
static void wait_for_go(int channel) {
    char go;
    long n = syscall(SYS_read, channel, &go, 1);
    if (n != 1)
        nk_child_fail(channel, NK_STEP_WAIT_GO, 0, n == 0 ? EPIPE : errno);
}

// A new user namespace changes what ids mean, not the ids the child holds: it still
// runs as the kernel's uid until it sets its ids to the namespace's root, which the
// parent mapped to the outside ids the domain runs as (spawn.c: outside_id). Needs
// CAP_SETUID/CAP_SETGID in the namespace, so before the capabilities go. setgroups
// fails with EPERM where the parent had to deny it; the groups then stay the kernel's.
static void become_namespace_root(int channel) {
    if (syscall(SYS_setgroups, 0, NULL) != 0 && errno != EPERM)
        nk_child_fail(channel, NK_STEP_IDENTITY, 0, errno);
    if (syscall(SYS_setresgid, 0, 0, 0) != 0)
        nk_child_fail(channel, NK_STEP_IDENTITY, 1, errno);
    if (syscall(SYS_setresuid, 0, 0, 0) != 0)
        nk_child_fail(channel, NK_STEP_IDENTITY, 2, errno);
}

// Changing the effective ids clears the parent-death signal (commit_creds), and a
// domain that outlives the kernel is an orphan nobody supervises: a stopped one would
// not even notice its channel closing. Arm it again, then make sure the kernel did not
// die in between: its end of the channel is still open only while it lives.
static void rearm_parent_death_signal(int channel) {
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        nk_child_fail(channel, NK_STEP_PDEATHSIG, 1, errno);
    char byte;
    if (syscall(SYS_recvfrom, channel, &byte, 1, MSG_PEEK | MSG_DONTWAIT, NULL, NULL) == 0)
        nk_child_fail(channel, NK_STEP_PDEATHSIG, 2, EPIPE);
}

// Moves fd to the fixed number `to` with O_CLOEXEC; returns `to`.
static int move_fd(int fd, int to, int channel) {
    if (fd != to) {
        if (syscall(SYS_dup3, fd, to, O_CLOEXEC) < 0)
            nk_child_fail(channel, NK_STEP_RESERVE_FDS, to, errno);
        syscall(SYS_close, fd);
    }
    return to;
}

// Opens /dev/null on a free number at or above `lowest`, O_CLOEXEC.
static int open_null_above(int lowest, int channel) {
    long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        nk_child_fail(channel, NK_STEP_NULL_INPUT, 0, errno);
    long moved = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, lowest);
    if (moved < 0)
        nk_child_fail(channel, NK_STEP_NULL_INPUT, 1, errno);
    syscall(SYS_close, fd);
    return (int)moved;
}

// keep_fds[i] becomes fd 3 + i. Every kept fd is first copied above the target range,
// so moving one into place can never overwrite another that has not moved yet. The
// parent checked they are all below NK_FD_EXE, and the copies land on free numbers, so
// they cannot hit the channel's reserved fd. fd 0 becomes /dev/null, and 1 and 2 the
// kernel's output pipe (or /dev/null): nothing of the kernel's own 0-2, which may be the
// operator's terminal, reaches the domain.
static void place_kept_fds(const nk_spawn_spec *spec, int channel) {
    int staged[NK_MAX_KEEP_FDS];
    int first_free = 3 + spec->keep_fd_count;
    for (int i = 0; i < spec->keep_fd_count; i++) {
        staged[i] = (int)syscall(SYS_fcntl, spec->keep_fds[i], F_DUPFD_CLOEXEC, first_free);
        if (staged[i] < 0)
            nk_child_fail(channel, NK_STEP_KEEP_FD, i, errno);
    }
    int null = open_null_above(first_free, channel);
    int output = null;
    if (spec->capture_output) {
        output = (int)syscall(SYS_fcntl, spec->output_fd, F_DUPFD_CLOEXEC, first_free);
        if (output < 0)
            nk_child_fail(channel, NK_STEP_OUTPUT, 1, errno);
    }
    for (int i = 0; i < spec->keep_fd_count; i++)  // dup2 clears FD_CLOEXEC: these survive
        if (syscall(SYS_dup2, staged[i], 3 + i) < 0)
            nk_child_fail(channel, NK_STEP_KEEP_FD, i, errno);
    if (syscall(SYS_dup2, null, 0) < 0)
        nk_child_fail(channel, NK_STEP_NULL_INPUT, 2, errno);
    for (int fd = 1; fd <= 2; fd++)
        if (syscall(SYS_dup2, output, fd) < 0)
            nk_child_fail(channel, NK_STEP_OUTPUT, fd, errno);
    // Everything else goes (the staged copies too), except 0-2 and the channel.
    if (syscall(SYS_close_range, first_free, NK_FD_CHANNEL - 1, 0) != 0 ||
        syscall(SYS_close_range, NK_FD_CHANNEL + 1, ~0U, 0) != 0)
        nk_child_fail(channel, NK_STEP_CLOSE_FDS, 0, errno);
}

// Sets soft and hard limit to `value`, or to the current hard limit if that is lower:
// raising a hard limit needs CAP_SYS_RESOURCE in the initial namespace.
static void set_limit(int resource, uint64_t value, int channel) {
    struct rlimit old, limit;
    if (syscall(SYS_prlimit64, 0, resource, NULL, &old) != 0)
        nk_child_fail(channel, NK_STEP_RLIMIT, resource, errno);
    limit.rlim_cur = limit.rlim_max = value < old.rlim_max ? value : old.rlim_max;
    if (syscall(SYS_prlimit64, 0, resource, &limit, NULL) != 0)
        nk_child_fail(channel, NK_STEP_RLIMIT, resource, errno);
}

static void set_limits(const nk_spawn_spec *spec, int channel) {
    set_limit(RLIMIT_CORE, 0, channel);  // a core dump would write our memory to disk
    if (spec->limit_address_space)
        set_limit(RLIMIT_AS, spec->limit_address_space, channel);
    if (spec->limit_open_files)
        set_limit(RLIMIT_NOFILE, spec->limit_open_files, channel);
    if (spec->limit_processes)
        set_limit(RLIMIT_NPROC, spec->limit_processes, channel);
}

// Bounding set first: dropping from it needs CAP_SETPCAP, which capset then removes. The
// loop stops at EINVAL (past the last capability) or at EPERM: no CAP_SETPCAP means an
// unprivileged parent without a user namespace, and then no_new_privs alone keeps
// execve from granting anything.
static void drop_capabilities(int channel) {
    for (int cap = 0; syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++) {
    }
    if (errno != EINVAL && errno != EPERM)
        nk_child_fail(channel, NK_STEP_CAPABILITIES, 0, errno);
    if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        nk_child_fail(channel, NK_STEP_CAPABILITIES, 1, errno);
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {{0}};
    if (syscall(SYS_capset, &header, none) != 0)
        nk_child_fail(channel, NK_STEP_CAPABILITIES, 2, errno);
}

// The parent's signal mask (all blocked) would survive execve; the service starts clean.
static void unblock_signals(int channel) {
    uint64_t none = 0;
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none) != 0)
        nk_child_fail(channel, NK_STEP_SIGNAL_MASK, 0, errno);
}

// Returns the notification listener, or -1 when the filter kills instead of notifying.
// From here on only the calls the filter allows work: sendmsg, close, the pinned
// execveat, exit_group.
static int load_filter(const nk_filter *filter, int channel) {
    struct sock_fprog program = {.len = (unsigned short)filter->instructions,
                                 .filter = (struct sock_filter *)filter->bytes};
    unsigned flags = filter->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
    if (listener < 0)
        nk_child_fail(channel, NK_STEP_SECCOMP, 0, errno);
    return filter->notify ? (int)listener : -1;
}

_Noreturn void nk_child_main(const nk_spawn_spec *spec, int channel, int parent_end) {
    static char *const no_environment[] = {NULL};
    syscall(SYS_close, parent_end);
    reset_signal_handlers(channel);
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        nk_child_fail(channel, NK_STEP_PDEATHSIG, 0, errno);
    wait_for_go(channel);
    if (syscall(SYS_setsid) < 0)
        nk_child_fail(channel, NK_STEP_SETSID, 0, errno);
    if (spec->namespaces & NK_NS_USER) {
        become_namespace_root(channel);
        rearm_parent_death_signal(channel);
    }

    channel = move_fd(channel, NK_FD_CHANNEL, channel);
    place_kept_fds(spec, channel);
    if (spec->own_root)
        nk_child_enter_own_root(spec, channel);
    else if (syscall(SYS_chdir, "/") != 0)  // as in its own root: never the kernel's cwd
        nk_child_fail(channel, NK_STEP_ROOT_PIVOT, 3, errno);
    // Opened (in its own root) before Landlock restricts us; O_PATH needs no read or
    // execute right.
    long exe = syscall(SYS_openat, AT_FDCWD, spec->executable, O_PATH | O_CLOEXEC);
    if (exe < 0)
        nk_child_fail(channel, NK_STEP_OPEN_EXE, 0, errno);
    move_fd((int)exe, NK_FD_EXE, channel);

    drop_capabilities(channel);
    if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        nk_child_fail(channel, NK_STEP_NO_NEW_PRIVS, 0, errno);
    if (spec->use_landlock)
        nk_child_landlock(spec, NK_FD_EXE, channel);
    // After Landlock, whose ruleset and path fds could exceed a small RLIMIT_NOFILE.
    // Lowering a limit needs no capability. The listener is the last fd we create.
    set_limits(spec, channel);
    unblock_signals(channel);

    int listener = spec->filter ? load_filter(spec->filter, channel) : -1;
    nk_child_msg ready = {.kind = NK_MSG_READY};
    if (send_msg(channel, &ready, listener) < 0)
        nk_child_fail(channel, NK_STEP_SEND_LISTENER, 0, errno);
    if (listener >= 0)
        syscall(SYS_close, listener);  // the domain must never hold its own listener
    syscall(SYS_execveat, NK_FD_EXE, "", spec->argv, spec->envp ? spec->envp : no_environment,
            AT_EMPTY_PATH);
    nk_child_fail(channel, NK_STEP_EXEC, 0, errno);
}
