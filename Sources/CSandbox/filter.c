// filter.c: the domain's seccomp allow-list, compiled in the parent with libseccomp.
//
// libseccomp allocates and is not async-signal-safe, so the program is built here, in
// the kernel, and only its BPF bytes go down to the child (child.c loads them with a raw
// seccomp(2)). Anything not allowed below hits the default action: a user notification
// the kernel turns into a report and a kill (violation.c), or, on a host without
// notifications, an immediate kill of the whole process.
#define _GNU_SOURCE
#include "internal.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

// Allowed whatever the arguments: what a statically linked Swift service with threads,
// futexes, shared memory and already-open Unix sockets needs. No call here creates a
// socket, changes a namespace or reaches another process.
static const int always_allowed[] = {
    // Memory. mremap cannot grow the sealed A-stack memfds, so it is harmless.
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect),
    SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(membarrier),
    // Threads, futexes (the LRPC doorbell), scheduling.
    SCMP_SYS(futex), SCMP_SYS(futex_waitv), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
    SCMP_SYS(sched_setaffinity), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid),
    SCMP_SYS(exit), SCMP_SYS(exit_group),
    // Signals. tgkill is how glibc's raise() and pthread_kill() work; it cannot be held
    // to the caller's own pid here (the pid is unknown when the filter is built). What
    // keeps it off other processes: LANDLOCK_SCOPE_SIGNAL (Landlock ABI >= 6) refuses a
    // signal to any process outside the domain, and in a pid namespace the domain sees
    // no other pid. With neither, it can signal any process of the same uid. kill and
    // tkill stay refused.
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack), SCMP_SYS(tgkill),
    // The kernel's own resumption of a sleep interrupted by SIGSTOP/SIGCONT: a stopped
    // and continued domain makes it without asking for anything new.
    SCMP_SYS(restart_syscall),
    // Time.
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
    SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    // I/O on descriptors the domain already holds (socket, connect, bind stay refused).
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
    SCMP_SYS(lseek), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
    SCMP_SYS(recvfrom), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
    // Files: Landlock decides which paths (readlink is how Swift finds /proc/self/exe),
    // and the domain's own root which paths exist at all.
    SCMP_SYS(openat), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
    SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
    // Facts about the process and the machine.
    SCMP_SYS(getrandom), SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrlimit),
};

// fcntl commands that neither duplicate a descriptor nor lock anything.
static const int fcntl_allowed[] = {F_GETFD, F_SETFD, F_GETFL, F_SETFL};

// Learning mode: a path-taking call the filter would allow goes to the kernel anyway.
static uint32_t allow_action(int nr, int watch_paths) {
    return watch_paths && nk_is_path_syscall(nr) ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned count,
                    const struct scmp_arg_cmp *cmp, char *err, size_t err_len) {
    int rc = seccomp_rule_add_array(ctx, action, nr, count, cmp);
    if (rc == 0)
        return 0;
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    nk_error(err, err_len, "seccomp rule for %s: %s", name ? name : "?", strerror(-rc));
    free(name);
    return -1;
}

// Allowed only with the arguments that keep the call inside the domain.
static int add_conditional_rules(scmp_filter_ctx ctx, char *err, size_t err_len) {
    // clone: new threads only (CLONE_THREAD set), never in new namespaces (which would
    // need capabilities the domain lacks anyway); a new process is refused.
    const uint64_t checked = CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                             CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
    struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, checked, CLONE_THREAD);
    if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &thread, err, err_len) != 0)
        return -1;
    // clone3 takes its flags in memory, out of the filter's sight: answer ENOSYS, and
    // glibc falls back to clone, whose flags the rule above can check.
    if (add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, err, err_len) != 0)
        return -1;
    for (size_t i = 0; i < sizeof fcntl_allowed / sizeof fcntl_allowed[0]; i++) {
        struct scmp_arg_cmp cmd = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_allowed[i]);
        if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, &cmd, err, err_len) != 0)
            return -1;
    }
    // ioctl: only TCGETS, the isatty() probe glibc's stdio and the Swift runtime make at
    // start-up. It reads terminal settings and changes nothing.
    struct scmp_arg_cmp tcgets = SCMP_A1(SCMP_CMP_EQ, TCGETS);
    if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &tcgets, err, err_len) != 0)
        return -1;
    // arch_prctl: static glibc sets its thread pointer at start-up; nothing else.
    struct scmp_arg_cmp set_fs = SCMP_A0(SCMP_CMP_EQ, ARCH_SET_FS);
    if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(arch_prctl), 1, &set_fs, err, err_len) != 0)
        return -1;
    // prctl: name or read the name of our own threads (PR_SET_NAME / PR_GET_NAME).
    struct scmp_arg_cmp set_name = SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME);
    struct scmp_arg_cmp get_name = SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME);
    if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &set_name, err, err_len) != 0 ||
        add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &get_name, err, err_len) != 0)
        return -1;
    // prlimit64: read our own limits (glibc's getrlimit), never set any.
    struct scmp_arg_cmp get_own[] = {SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0)};
    if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, get_own, err, err_len) != 0)
        return -1;
    // The child's own execveat of the pinned executable fd (child.c). The fd is
    // O_CLOEXEC, so the service no longer has it. An absolute path would make execveat
    // ignore the fd: Landlock (EXECUTE granted on the executable alone) is what stops
    // the service from executing anything else, and a new image inherits this filter.
    struct scmp_arg_cmp pinned[] = {SCMP_A0(SCMP_CMP_EQ, NK_FD_EXE),
                                    SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH)};
    return add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execveat), 2, pinned, err, err_len);
}

// Calls the base filter allows only with conditions. An image granting one of them
// outright would silently widen it (or, for clone3, be silently ignored): refuse.
static int is_conditional(int nr) {
    return nr == SCMP_SYS(clone) || nr == SCMP_SYS(clone3) || nr == SCMP_SYS(fcntl) ||
           nr == SCMP_SYS(ioctl) || nr == SCMP_SYS(arch_prctl) || nr == SCMP_SYS(prctl) ||
           nr == SCMP_SYS(prlimit64) || nr == SCMP_SYS(execveat);
}

static int add_extra_syscalls(scmp_filter_ctx ctx, const char *const *names, int count,
                              int watch_paths, char *err, size_t err_len) {
    for (int i = 0; i < count; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr < 0)  // unknown, or a pseudo-syscall that does not exist on x86_64
            return nk_error(err, err_len, "extra syscall \"%s\": no such system call on x86_64",
                            names[i]);
        if (is_conditional(nr))
            return nk_error(err, err_len,
                            "extra syscall \"%s\": the base filter allows it only with "
                            "checked arguments; it cannot be granted outright", names[i]);
        uint32_t action = allow_action(nr, watch_paths);
        if (action != SCMP_ACT_ALLOW)
            continue;  // the default action already notifies
        if (add_rule(ctx, action, nr, 0, NULL, err, err_len) != 0)
            return -1;
    }
    return 0;
}

// libseccomp exports to a file descriptor; a memfd turns that into bytes in memory.
static int export_program(scmp_filter_ctx ctx, nk_filter *out, char *err, size_t err_len) {
    int fd = memfd_create("nk-seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0)
        return nk_error(err, err_len, "memfd_create: %s", strerror(errno));
    int rc = seccomp_export_bpf(ctx, fd);
    off_t size = lseek(fd, 0, SEEK_END);
    void *bytes = rc == 0 && size > 0 ? malloc((size_t)size) : NULL;
    if (bytes == NULL || pread(fd, bytes, (size_t)size, 0) != size) {
        free(bytes);
        close(fd);
        return nk_error(err, err_len, "exporting the seccomp program: %s",
                        strerror(rc != 0 ? -rc : errno));
    }
    close(fd);
    if ((size_t)size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        free(bytes);
        return nk_error(err, err_len, "seccomp program has %zu instructions (the kernel takes %d)",
                        (size_t)size / sizeof(struct sock_filter), BPF_MAXINSNS);
    }
    out->bytes = bytes;
    out->length = (size_t)size;
    out->instructions = (uint32_t)((size_t)size / sizeof(struct sock_filter));
    return 0;
}

int nk_filter_base_allows(int nr) {
    for (size_t i = 0; i < sizeof always_allowed / sizeof always_allowed[0]; i++)
        if (always_allowed[i] == nr)
            return 1;
    return 0;
}

int nk_filter_build(const char *const *extra_syscalls, int extra_count, int watch_paths,
                    nk_filter *out, char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    // Notify where the host has it (libseccomp checks the kernel); kill otherwise.
    uint32_t refuse = SCMP_ACT_NOTIFY;
    scmp_filter_ctx ctx = seccomp_init(refuse);
    if (ctx == NULL) {
        refuse = SCMP_ACT_KILL_PROCESS;
        ctx = seccomp_init(refuse);
    }
    if (ctx == NULL)
        return nk_error(err, err_len, "seccomp_init failed");
    out->notify = refuse == SCMP_ACT_NOTIFY;

    // Only native x86_64 calls are matched against the rules. A 32-bit call (int 0x80)
    // or an x32 one (nr | __X32_SYSCALL_BIT) gets the same refusal as any other
    // unlisted call, so it is reported too. A binary search tree keeps the cost of a
    // long list low for the calls the kernel's per-syscall cache cannot answer.
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, refuse);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc != 0) {
        seccomp_release(ctx);
        return nk_error(err, err_len, "seccomp_attr_set: %s", strerror(-rc));
    }

    int failed = 0;
    for (size_t i = 0; !failed && i < sizeof always_allowed / sizeof always_allowed[0]; i++)
        if (allow_action(always_allowed[i], watch_paths) == SCMP_ACT_ALLOW)
            failed = add_rule(ctx, SCMP_ACT_ALLOW, always_allowed[i], 0, NULL, err, err_len);
    if (!failed)
        failed = add_conditional_rules(ctx, err, err_len);
    if (!failed)
        failed = add_extra_syscalls(ctx, extra_syscalls, extra_count, watch_paths, err, err_len);
    if (!failed)
        failed = export_program(ctx, out, err, err_len);
    seccomp_release(ctx);
    return failed ? -1 : 0;
}

void nk_filter_free(nk_filter *filter) {
    free(filter->bytes);
    memset(filter, 0, sizeof *filter);
}
