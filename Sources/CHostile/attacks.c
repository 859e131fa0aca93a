// attacks.c: what a hostile service tries from inside its protection domain.
//
// Raw syscall() throughout: a libc wrapper might try something else first, or nothing
// at all, and then the test would not be testing the call it names. Attacks that the
// seccomp filter refuses never come back (the kernel stops the domain); the others
// report the errno that stopped them, or 0 if they got through.
#define _GNU_SOURCE
#include "nk_hostile.h"
#include "descriptor_copies.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

// The fixed fd the sandbox's one allowed execveat names (CSandbox's NK_FD_EXE).
enum { PINNED_EXE_FD = 1000 };
// The domain's control channel (DomainRuntime.controlDescriptor).
enum { CONTROL_FD = 3 };

__attribute__((format(printf, 3, 4))) static void say(nk_attack_result *out, int error,
                                                      const char *fmt, ...) {
    out->error = error;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
}

// The usual ending: the call's errno, or 0 if it worked.
static void outcome(nk_attack_result *out, long rc, const char *what) {
    if (rc < 0)
        say(out, errno, "%s: %s", what, strerror(errno));
    else
        say(out, 0, "%s succeeded (returned %ld)", what, rc);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pause_briefly(void) {
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
}

// MARK: files

static void open_passwd(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC),
            "openat(\"/etc/passwd\", O_RDONLY)");
}

static void open_path(const nk_attack_env *env, nk_attack_result *out) {
    char what[160];
    snprintf(what, sizeof what, "openat(\"%.120s\", O_RDONLY)", env->path);
    outcome(out, syscall(SYS_openat, AT_FDCWD, env->path, O_RDONLY | O_CLOEXEC), what);
}

static void create_path(const nk_attack_env *env, nk_attack_result *out) {
    char what[160];
    snprintf(what, sizeof what, "openat(\"%.110s\", O_CREAT|O_WRONLY)", env->path);
    outcome(out, syscall(SYS_openat, AT_FDCWD, env->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
            what);
}

// A durable store's write, as a service does it: a temporary file in the directory
// env->path, written, fsync'd, renamed over the store file, then read back.
static void durable_write(const nk_attack_env *env, nk_attack_result *out) {
    char temporary[240], store[240], what[300];
    snprintf(temporary, sizeof temporary, "%.200s/.store.tmp", env->path);
    snprintf(store, sizeof store, "%.200s/store", env->path);
    static const char data[] = "durable\n";
    long fd = syscall(SYS_openat, AT_FDCWD, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    snprintf(what, sizeof what, "openat(\"%.200s\", O_CREAT|O_WRONLY)", temporary);
    if (fd < 0)
        return outcome(out, fd, what);
    long rc = syscall(SYS_write, fd, data, sizeof data - 1);
    if (rc == (long)sizeof data - 1)
        rc = syscall(SYS_fsync, fd);
    syscall(SYS_close, fd);
    if (rc < 0)
        return outcome(out, rc, "write and fsync");
    if ((rc = syscall(SYS_rename, temporary, store)) < 0)
        return outcome(out, rc, "rename");
    char back[16] = {0};
    fd = syscall(SYS_openat, AT_FDCWD, store, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return outcome(out, fd, "openat(store, O_RDONLY)");
    rc = syscall(SYS_read, fd, back, sizeof back - 1);
    syscall(SYS_close, fd);
    if (rc != (long)sizeof data - 1 || memcmp(back, data, sizeof data - 1) != 0)
        return say(out, EIO, "read back %ld bytes", rc);
    say(out, 0, "wrote, fsync'd and renamed %.200s", store);
}

// For learning mode's kernel: bad pointers, unterminated and oversized paths, and many
// distinct paths, from several threads, for env->target milliseconds. Files named
// env->path/<n> (n = 0..199) are read when they exist.
static const char *storm_directory;
static int64_t storm_until;
static long storm_rounds;  // rounds of 8 path calls, all threads together

static void *storm_thread(void *arg) {
    long self = (long)arg;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    // Two pages, the second inaccessible: a path that runs into it has no end.
    char *edge = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (edge == MAP_FAILED)
        return NULL;
    memset(edge, 'a', page);
    edge[0] = '/';
    mprotect(edge + page, page, PROT_NONE);
    static char huge[3 * 4096];
    memset(huge, 'b', sizeof huge - 1);
    huge[0] = '/';
    char name[260];
    struct stat st;
    for (long i = 0; now_ns() < storm_until; i++) {
        syscall(SYS_openat, AT_FDCWD, (const char *)0x1, O_RDONLY);
        syscall(SYS_openat, AT_FDCWD, (const char *)0xffff800000000000ULL, O_RDONLY);
        syscall(SYS_newfstatat, AT_FDCWD, edge + page - 64, &st, 0);
        syscall(SYS_openat, AT_FDCWD, huge, O_RDONLY);
        syscall(SYS_openat, 999, "relative", O_RDONLY);
        syscall(SYS_renameat2, AT_FDCWD, (const char *)0x10, AT_FDCWD, edge, 0);
        snprintf(name, sizeof name, "%s/%ld", storm_directory, (i * 7 + self) % 200);
        long fd = syscall(SYS_openat, AT_FDCWD, name, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            syscall(SYS_close, fd);
        snprintf(name, sizeof name, "%s/\x1b[31m\"quote\"\\\n%ld", storm_directory, i % 3);
        syscall(SYS_newfstatat, AT_FDCWD, name, &st, 0);
        __atomic_add_fetch(&storm_rounds, 1, __ATOMIC_RELAXED);
    }
    munmap(edge, 2 * page);
    return NULL;
}

static void learn_storm(const nk_attack_env *env, nk_attack_result *out) {
    storm_directory = env->path;
    storm_until = now_ns() + (env->target > 0 && env->target < 60000 ? env->target : 1000) * 1000000LL;
    pthread_t threads[4];
    int started = 0;
    for (long i = 0; i < 4; i++)
        if (pthread_create(&threads[started], NULL, storm_thread, (void *)i) == 0)
            started++;
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    say(out, started == 4 ? 0 : EAGAIN, "%d storm threads ran %ld rounds of 8 path calls", started,
        __atomic_load_n(&storm_rounds, __ATOMIC_RELAXED));
}

// /proc/<kernel>/mem: the whole kernel's memory, if the path and ptrace checks let us.
static void open_proc_mem(const nk_attack_env *env, nk_attack_result *out) {
    char path[64], what[96];
    snprintf(path, sizeof path, "/proc/%lld/mem", (long long)env->target);
    snprintf(what, sizeof what, "openat(\"%s\", O_RDWR)", path);
    outcome(out, syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC), what);
}

// What exists outside the domain's grants: stat needs no Landlock right, so only the
// domain's own root can hide /etc/shadow or /root.
static void stat_path(const nk_attack_env *env, nk_attack_result *out) {
    struct stat st;
    char what[160];
    snprintf(what, sizeof what, "stat(\"%.120s\")", env->path);
    outcome(out, syscall(SYS_newfstatat, AT_FDCWD, env->path, &st, 0), what);
}

// Every process /proc shows, and the kernel's own pid there: only the domain's own pid
// namespace may show (the test grants it /proc to read, so Landlock is not what stops it).
static void list_proc(const nk_attack_env *env, nk_attack_result *out) {
    long dir = syscall(SYS_openat, AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return outcome(out, dir, "openat(\"/proc\", O_DIRECTORY)");
    char buffer[8192], seen[120] = "";
    int processes = 0;
    long n;
    while ((n = syscall(SYS_getdents64, dir, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < n;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
                *entry = (void *)(buffer + at);
            if (entry->name[0] >= '1' && entry->name[0] <= '9') {
                processes++;
                size_t used = strlen(seen);
                snprintf(seen + used, sizeof seen - used, "%s%s", used ? " " : "", entry->name);
            }
            at += entry->reclen;
        }
    }
    int listed = n == 0;
    syscall(SYS_close, dir);
    if (!listed)
        return outcome(out, -1, "getdents64(/proc)");
    char kernel[64];
    struct stat st;
    snprintf(kernel, sizeof kernel, "/proc/%lld", (long long)env->target);
    int kernel_seen = syscall(SYS_newfstatat, AT_FDCWD, kernel, &st, 0) == 0;
    if (processes != 1 || kernel_seen)
        return say(out, 0, "/proc shows %d processes (%s)%s", processes, seen,
                   kernel_seen ? ", the kernel's among them" : "");
    say(out, ESRCH, "/proc shows only its own process (%s), not the kernel's %lld", seen,
        (long long)env->target);
}

// The kernel's own fds 0-2 may be the operator's terminal: a domain must get none of
// them. fd 0 must be /dev/null, and no fd of 0-2 a terminal (TCGETS is the one ioctl
// the filter allows).
static void operator_terminal(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    unsigned char termios[64];
    for (int fd = 0; fd <= 2; fd++)
        if (syscall(SYS_ioctl, fd, TCGETS, termios) == 0)
            return say(out, 0, "fd %d is a terminal", fd);
    struct stat st;
    if (syscall(SYS_fstat, 0, &st) != 0)
        return outcome(out, -1, "fstat(0)");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return say(out, 0, "fd 0 is not /dev/null (mode %o, device %u:%u)", st.st_mode,
                   major(st.st_rdev), minor(st.st_rdev));
    char typed[64];
    long got = syscall(SYS_read, 0, typed, sizeof typed);
    if (got > 0)
        return say(out, 0, "read %ld bytes of input from fd 0", got);
    say(out, ENOTTY, "fds 0-2 are no terminal; fd 0 is /dev/null");
}

// Run the domain out of descriptors: the one file it may open, over and over.
static void fd_bomb(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    static int fds[100000];
    int n = 0;
    long fd = 0;
    while (n < (int)(sizeof fds / sizeof fds[0]) &&
           (fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC)) >= 0)
        fds[n++] = (int)fd;
    int error = fd < 0 ? errno : 0;
    for (int i = 0; i < n; i++)
        syscall(SYS_close, fds[i]);
    if (error)
        say(out, error, "opened %d descriptors, then %s", n, strerror(error));
    else
        say(out, 0, "opened %d descriptors without a limit", n);
}

// MARK: network and the kernel's control socket

static void socket_inet(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_socket, AF_INET, SOCK_STREAM, 0), "socket(AF_INET, SOCK_STREAM, 0)");
}

static socklen_t unix_address(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
    return (socklen_t)sizeof *a;
}

// A new connection to the kernel's control socket, as nkctl makes one.
static void connect_control(const nk_attack_env *env, nk_attack_result *out) {
    long s = syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return outcome(out, s, "socket(AF_UNIX, SOCK_SEQPACKET)");
    struct sockaddr_un a;
    socklen_t len = unix_address(env->path, &a);
    long rc = syscall(SYS_connect, s, &a, len);
    outcome(out, rc, "connect to the kernel's control socket");
    syscall(SYS_close, s);
}

// The same without a new socket: reconnect the domain's own control channel.
static void connect_existing(const nk_attack_env *env, nk_attack_result *out) {
    struct sockaddr_un a;
    socklen_t len = unix_address(env->path, &a);
    outcome(out, syscall(SYS_connect, CONTROL_FD, &a, len), "connect(control channel, kernel socket)");
}

static void socketpair_unix(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    int sv[2];
    outcome(out, syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), "socketpair(AF_UNIX)");
}

// MARK: other processes

static void ptrace_attach(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_ptrace, PTRACE_ATTACH, (pid_t)env->target, 0, 0), "ptrace(PTRACE_ATTACH)");
}

static void process_vm_write(const nk_attack_env *env, nk_attack_result *out) {
    char garbage[16] = "garbage garbage";
    struct iovec local = {garbage, sizeof garbage};
    struct iovec remote = {(void *)0x400000, sizeof garbage};
    outcome(out, syscall(SYS_process_vm_writev, (pid_t)env->target, &local, 1, &remote, 1, 0),
            "process_vm_writev");
}

static void process_vm_read(const nk_attack_env *env, nk_attack_result *out) {
    char buffer[16];
    struct iovec local = {buffer, sizeof buffer};
    struct iovec remote = {(void *)0x400000, sizeof buffer};
    outcome(out, syscall(SYS_process_vm_readv, (pid_t)env->target, &local, 1, &remote, 1, 0),
            "process_vm_readv");
}

static void kill_target(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_kill, (pid_t)env->target, SIGKILL), "kill(target, SIGKILL)");
}

static void kill_everyone(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_kill, -1, SIGKILL), "kill(-1, SIGKILL)");
}

// tgkill is allowed (glibc's raise and pthread_kill): only the pid namespace and
// Landlock's signal scope keep it on the domain's own threads.
static void tgkill_target(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_tgkill, (pid_t)env->target, (pid_t)env->target, SIGKILL),
            "tgkill(target, target, SIGKILL)");
}

static void pidfd_open_target(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_pidfd_open, (pid_t)env->target, 0), "pidfd_open(target)");
}

// MARK: new programs and processes

static void execve_shell(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    char *const argv[] = {"sh", "-c", "kill -9 -1", NULL};
    char *const envp[] = {NULL};
    outcome(out, syscall(SYS_execve, "/bin/sh", argv, envp), "execve(\"/bin/sh\")");
}

// The one execveat the filter lets through names fd 1000 with AT_EMPTY_PATH; with an
// absolute path the kernel ignores the fd. Landlock is what must stop this one.
static void execveat_shell(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    char *const argv[] = {"sh", "-c", "kill -9 -1", NULL};
    char *const envp[] = {NULL};
    outcome(out, syscall(SYS_execveat, PINNED_EXE_FD, "/bin/sh", argv, envp, AT_EMPTY_PATH),
            "execveat(1000, \"/bin/sh\", AT_EMPTY_PATH)");
}

// Bounded, so that a sandbox that let fork through fails the test without taking the
// machine down: each child exits at once.
static void fork_bomb(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    int forked = 0;
    for (; forked < 64; forked++) {
        pid_t pid = fork();
        if (pid == 0)
            syscall(SYS_exit_group, 0);
        if (pid < 0)
            return say(out, errno, "fork failed after %d children: %s", forked, strerror(errno));
    }
    say(out, 0, "forked %d children", forked);
}

static void raw_fork(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    long pid = syscall(SYS_fork);
    if (pid == 0)
        syscall(SYS_exit_group, 0);
    outcome(out, pid, "fork()");
}

static uint32_t thread_release;

static void *parked_thread(void *arg) {
    (void)arg;
    while (__atomic_load_n(&thread_release, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, &thread_release, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

// Threads are allowed; how many is the domain's process limit's business.
static void thread_bomb(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    enum { CAP = 4096 };
    static pthread_t threads[CAP];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    __atomic_store_n(&thread_release, 0, __ATOMIC_RELEASE);
    int n = 0, error = 0;
    while (n < CAP && (error = pthread_create(&threads[n], &attr, parked_thread, NULL)) == 0)
        n++;
    pthread_attr_destroy(&attr);
    __atomic_store_n(&thread_release, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &thread_release, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    if (error)
        say(out, error, "started %d threads, then %s", n, strerror(error));
    else
        say(out, 0, "started %d threads without hitting a limit", n);
}

static uint32_t never_released;

static void *held_thread(void *arg) {
    (void)arg;
    for (;;)
        syscall(SYS_futex, &never_released, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

// Threads up to the process limit, kept until the domain dies: the domain's uid stays
// at its RLIMIT_NPROC. Under a shared uid no other domain could then start a thread.
static void hold_threads(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int n = 0, error = 0;
    pthread_t thread;
    while (n < 4096 && (error = pthread_create(&thread, &attr, held_thread, NULL)) == 0)
        n++;
    pthread_attr_destroy(&attr);
    say(out, error, "holding %d threads, then %s", n, error ? strerror(error) : "stopped at 4096");
}

// Map and touch memory until the address-space limit says no.
static void memory_bomb(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    enum { CHUNK = 32 << 20, MAX_CHUNKS = 2048 };  // stop at 64 GiB
    static void *chunks[MAX_CHUNKS];
    int n = 0, error = 0;
    for (; n < MAX_CHUNKS; n++) {
        void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED) {
            error = errno;
            break;
        }
        chunks[n] = p;
    }
    // malloc takes the same road (brk, then mmap) and must fail the same way.
    void *big = error ? malloc((size_t)8 << 30) : NULL;
    int malloc_error = big ? 0 : errno;
    free(big);
    for (int i = 0; i < n; i++)
        munmap(chunks[i], CHUNK);
    if (error)
        say(out, error, "mapped and touched %d MiB, then mmap: %s; malloc(8 GiB): %s", n * 32,
            strerror(error), malloc_error ? strerror(malloc_error) : "succeeded");
    else
        say(out, 0, "mapped and touched %d MiB without hitting a limit", n * 32);
}

// MARK: namespaces, mounts, kernel facilities

static void mount_tmpfs(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL), "mount(tmpfs on /tmp)");
}

static void unshare_namespaces(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
}

static void setns_control(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_setns, CONTROL_FD, CLONE_NEWNET), "setns(3, CLONE_NEWNET)");
}

static void chroot_root(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_chroot, "/"), "chroot(\"/\")");
}

static void io_uring(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    outcome(out, syscall(SYS_io_uring_setup, 8, &params), "io_uring_setup(8)");
}

static void bpf_load(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    struct bpf_insn program[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},  // r0 = 0
        {.code = BPF_JMP | BPF_EXIT},
    };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (uint64_t)(uintptr_t)program;
    attr.insn_cnt = 2;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    outcome(out, syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr), "bpf(BPF_PROG_LOAD)");
}

static void perf_event(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    outcome(out, syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0), "perf_event_open");
}

static void keyctl_session(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0),
            "keyctl(KEYCTL_GET_KEYRING_ID)");
}

static void add_key_user(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_add_key, "user", "nk-hostile", "x", 1, KEY_SPEC_PROCESS_KEYRING),
            "add_key(\"user\")");
}

static void userfault(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), "userfaultfd");
}

static void memfd(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_memfd_create, "nk-hostile", MFD_CLOEXEC), "memfd_create");
}

// The file service's calls are in its filter only: any other domain is stopped.
static void openat2_call(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY, .resolve = RESOLVE_BENEATH};
    outcome(out, syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how), "openat2");
}

// A filter of our own that allows everything: stacking it cannot loosen the kernel's,
// but the call itself must not be available.
static void seccomp_filter(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog program = {.len = 1, .filter = &allow};
    outcome(out, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program), "seccomp(SECCOMP_SET_MODE_FILTER)");
}

// Push a byte into the input of whatever terminal fd 0 is (the kernel's stdin).
static void terminal_inject(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    char c = 'x';
    outcome(out, syscall(SYS_ioctl, 0, TIOCSTI, &c), "ioctl(0, TIOCSTI)");
}

static void raise_limit(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    struct rlimit wide = {RLIM_INFINITY, RLIM_INFINITY};
    outcome(out, syscall(SYS_prlimit64, 0, RLIMIT_AS, &wide, NULL), "prlimit64(RLIMIT_AS, infinity)");
}

static void setuid_root(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(SYS_setuid, 0), "setuid(0)");
}

// MARK: other system-call ABIs

// A 32-bit system call from this 64-bit process: getpid is 20 in the i386 table.
static void int80(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    long rc = 20;
    __asm__ volatile("int $0x80" : "+a"(rc) : : "memory", "r8", "r9", "r10", "r11");
    if (rc < 0 && rc > -4096) {
        errno = (int)-rc;
        rc = -1;
    }
    outcome(out, rc, "int $0x80 getpid (i386 syscall 20)");
}

// An x32 system call: getpid (39) with the x32 bit.
static void x32(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    outcome(out, syscall(__X32_SYSCALL_BIT | SYS_getpid), "x32 getpid");
}

// MARK: the A-stack of the service's binding to clock (a sealed memfd)

static void ftruncate_astack(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_ftruncate, env->astack_fd, (off_t)env->astack_size * 4),
            "ftruncate(A-stack memfd, 4x)");
}

static void shrink_astack(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_ftruncate, env->astack_fd, (off_t)0), "ftruncate(A-stack memfd, 0)");
}

// write() is allowed: writing past the sealed end would grow the file.
static void write_past_astack(const nk_attack_env *env, nk_attack_result *out) {
    if (syscall(SYS_lseek, env->astack_fd, (off_t)env->astack_size, SEEK_SET) < 0)
        return outcome(out, -1, "lseek(A-stack memfd, end)");
    long rc = syscall(SYS_write, env->astack_fd, "x", 1);
    int error = errno;
    syscall(SYS_lseek, env->astack_fd, (off_t)0, SEEK_SET);
    errno = error;
    outcome(out, rc, "write one byte past the A-stack's sealed end");
}

static off_t file_size(int fd) {
    struct stat st;
    return syscall(SYS_fstat, fd, &st) == 0 ? st.st_size : -1;
}

// mremap may grow our own view of the memfd, but the memfd itself is sealed: the pages
// past its end are backed by nothing, for us or the peer. Probe them with a system call
// (getrandom writes there), which fails with EFAULT instead of raising SIGBUS.
static void mremap_astack(const nk_attack_env *env, nk_attack_result *out) {
    size_t size = env->astack_size, grown = size * 4;
    // Grow in place first: the runtime's own mapping, which must keep its address.
    void *in_place = (void *)syscall(SYS_mremap, env->astack_base, size, grown, 0);
    if (in_place != MAP_FAILED)
        syscall(SYS_mremap, env->astack_base, grown, size, 0);  // shrink back
    // Then a second view of the same memfd, free to move.
    void *view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, env->astack_fd, 0);
    if (view == MAP_FAILED)
        return outcome(out, -1, "mmap of the A-stack memfd");
    void *moved = (void *)syscall(SYS_mremap, view, size, grown, MREMAP_MAYMOVE);
    if (moved == MAP_FAILED) {
        int error = errno;
        munmap(view, size);
        return say(out, error, "mremap(A-stack view, %zu -> %zu): %s", size, grown, strerror(error));
    }
    long probe = syscall(SYS_getrandom, (char *)moved + size, 16, 0);
    int probe_error = probe < 0 ? errno : 0;
    off_t after = file_size(env->astack_fd);
    munmap(moved, grown);
    if (after != (off_t)size)
        return say(out, 0, "the A-stack memfd changed size: %zu -> %lld", size, (long long)after);
    if (probe_error == 0)
        return say(out, 0, "wrote %ld bytes past the A-stack's sealed end through mremap", probe);
    say(out, probe_error, "mremap grew our view to %zu bytes (in place: %s), but the memfd stays "
        "%zu: the pages past it are not backed (%s)", grown, in_place == MAP_FAILED ? "refused" : "yes",
        size, strerror(probe_error));
}

static void fallocate_astack(const nk_attack_env *env, nk_attack_result *out) {
    outcome(out, syscall(SYS_fallocate, env->astack_fd, 0, (off_t)0, (off_t)env->astack_size * 4),
            "fallocate(A-stack memfd, 4x)");
}

// MARK: shared memory the runtime maps: the trap page and call records

// Calls fn(start, end, name) for each mapping of a memfd whose name starts with prefix.
static int each_memfd(const char *prefix, void (*fn)(uintptr_t, uintptr_t, const char *, void *),
                      void *context) {
    static char maps[1 << 17];
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t used = 0;
    long n;
    while (used < sizeof maps - 1 && (n = syscall(SYS_read, fd, maps + used, sizeof maps - 1 - used)) > 0)
        used += (size_t)n;
    syscall(SYS_close, fd);
    maps[used] = 0;
    char needle[96];
    snprintf(needle, sizeof needle, "/memfd:%s", prefix);
    int found = 0;
    for (char *line = maps; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        char *name = strstr(line, needle);
        unsigned long start, stop;
        if (name && sscanf(line, "%lx-%lx", &start, &stop) == 2) {
            found++;
            if (fn)
                fn(start, stop, name + 7, context);
        }
        line = end ? end + 1 : NULL;
    }
    return found;
}

static void name_mapping(uintptr_t start, uintptr_t stop, const char *name, void *context) {
    (void)start;
    (void)stop;
    char *list = context;
    size_t used = strlen(list);
    snprintf(list + used, 160 - used, "%s%.40s", used ? ", " : "", name);
}

// A client never receives the call records of a binding (only the server and the
// kernel map them). Look for any that are not our own service's.
static void records_of_imports(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    char all[160] = "", foreign[160] = "";
    if (each_memfd("nk-records-", name_mapping, all) < 0)
        return outcome(out, -1, "reading /proc/self/maps");
    int theirs = each_memfd("nk-records-clock", name_mapping, foreign) +
                 each_memfd("nk-records-name", name_mapping, foreign);
    if (theirs > 0)
        return say(out, 0, "call records of an import are mapped here: %s", foreign);
    say(out, ENOENT, "no call records of clock or name in this domain (records mapped: %s)",
        *all ? all : "none");
}

// Call record layout (LRPC CallRecords): header 64 bytes, then 64 bytes per slot:
// 0 sequence, 4 serverWaiting, 8 done, 12 procedure, 16 caller domain.
struct scribble {
    uint32_t slots;
    int regions, idle, in_flight;
};

static void scribble_region(uintptr_t start, uintptr_t stop, const char *name, void *context) {
    (void)name;
    struct scribble *s = context;
    s->regions++;
    uint8_t *base = (uint8_t *)start;
    memset(base + 4, 0xa5, 60);  // the header past `revoked` (revoked itself stays 0)
    for (uint32_t i = 0; i < s->slots && 64 + 64 * (i + 1) <= stop - start; i++) {
        uint32_t *record = (uint32_t *)(base + 64 + 64 * i);
        uint32_t sequence = __atomic_load_n(&record[0], __ATOMIC_ACQUIRE);
        uint32_t done = __atomic_load_n(&record[2], __ATOMIC_ACQUIRE);
        // The slot serving this very call: what the kernel wrote there is already read.
        if (sequence != done) {
            s->in_flight++;
            record[3] = 0x7fffffff;  // procedure
            record[4] = 0;           // caller: "the kernel"
            continue;
        }
        s->idle++;
        record[3] = 0x7fffffff;
        record[4] = 0;
        record[1] = 0xffffffff;  // serverWaiting
        __atomic_store_n(&record[2], 0xdeadbeef, __ATOMIC_SEQ_CST);  // done
        __atomic_store_n(&record[0], 0xdeadbeef, __ATOMIC_SEQ_CST);  // sequence: a call nobody made
        memset(&record[5], 0x5a, 64 - 20);
        syscall(SYS_futex, &record[0], FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
    }
}

// As a server the domain shares its bindings' call records with the kernel. Overwrite
// them: a phantom call on every idle slot, garbage procedure and caller everywhere.
static void scribble_records(const nk_attack_env *env, nk_attack_result *out) {
    struct scribble s = {.slots = env->own_slots};
    if (each_memfd("nk-records-hostile", scribble_region, &s) < 0)
        return outcome(out, -1, "reading /proc/self/maps");
    if (s.regions == 0)
        return say(out, ENOENT, "no call records of our own service found");
    say(out, 0, "scribbled over %d call record regions: %d idle slots given a phantom call, "
        "%d in-flight slots given a forged procedure and caller", s.regions, s.idle, s.in_flight);
}

// Trap page layout (LRPC TrapPage): 0 pending, 4 kernelWaiting, cells at 64 + 64*i:
// 0 state (sequence << 8 | CellState), 4 procedure, 8 binding index, 12 generation,
// 16 secret, 24 slot, 28 refusal.
enum { CELL_FREE = 0, CELL_POSTED = 1, CELL_ACCEPTED = 2, CELL_REFUSED = 3, CELL_FAILED = 4 };
enum { REFUSAL_SLOT_IN_USE = 6 };

static void note_base(uintptr_t start, uintptr_t stop, const char *name, void *context) {
    (void)stop;
    (void)name;
    *(uint8_t **)context = (uint8_t *)start;
}

static uint8_t *trap_page(void) {
    uint8_t *page = NULL;
    each_memfd("nk-trap-", note_base, &page);
    return page;
}

static uint32_t *cell_word(uint8_t *page, int cell, int offset) {
    return (uint32_t *)(page + 64 + 64 * cell + offset);
}

static void post(uint8_t *page, int cell, uint32_t procedure, uint32_t index, uint32_t generation,
                 uint64_t secret, uint32_t slot) {
    uint32_t *state = cell_word(page, cell, 0);
    uint32_t sequence = ((__atomic_load_n(state, __ATOMIC_RELAXED) >> 8) + 1) & 0xffffff;
    *cell_word(page, cell, 4) = procedure;
    *cell_word(page, cell, 8) = index;
    *cell_word(page, cell, 12) = generation;
    *(uint64_t *)(void *)cell_word(page, cell, 16) = secret;
    *cell_word(page, cell, 24) = slot;
    __atomic_store_n(state, sequence << 8 | CELL_POSTED, __ATOMIC_RELEASE);
}

static void ring(uint8_t *page, uint32_t cells) {
    uint32_t *pending = (uint32_t *)page, *waiting = (uint32_t *)(page + 4);
    __atomic_fetch_or(pending, cells, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(waiting, __ATOMIC_SEQ_CST))
        syscall(SYS_futex, pending, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static uint32_t cell_state(uint8_t *page, int cell) {
    return __atomic_load_n(cell_word(page, cell, 0), __ATOMIC_ACQUIRE) & 0xff;
}

static void free_cell(uint8_t *page, int cell) {
    uint32_t *state = cell_word(page, cell, 0);
    __atomic_store_n(state, (__atomic_load_n(state, __ATOMIC_RELAXED) & ~0xffu) | CELL_FREE,
                     __ATOMIC_RELEASE);
}

// Two traps on the same A-stack slot of the clock binding, rung with one doorbell: the
// kernel takes the first, and must refuse the second while the first is in flight.
// Cells 30 and 31: the runtime hands out the lowest free cells, and nothing else calls.
static void slot_in_use(const nk_attack_env *env, nk_attack_result *out) {
    uint8_t *page = trap_page();
    if (page == NULL)
        return say(out, ENOENT, "no trap page mapped");
    uint32_t *reply = (uint32_t *)env->astack_base;  // slot 0: reply, waiting, status, length
    int attempts = 0, refused = 0, both_accepted = 0;
    uint32_t last_refusal = 0;
    for (; attempts < 20 && !refused; attempts++) {
        reply[3] = 0;  // argument length: clock.now takes none
        __atomic_store_n(&reply[0], 1, __ATOMIC_SEQ_CST);  // pending
        post(page, 30, 0, env->bo_index, env->bo_generation, env->bo_secret, 0);
        post(page, 31, 0, env->bo_index, env->bo_generation, env->bo_secret, 0);
        ring(page, 1u << 30 | 1u << 31);
        int64_t deadline = now_ns() + 2000000000;
        while (now_ns() < deadline &&
               (cell_state(page, 30) == CELL_POSTED || cell_state(page, 31) == CELL_POSTED ||
                (cell_state(page, 30) == CELL_ACCEPTED && __atomic_load_n(&reply[0], __ATOMIC_ACQUIRE) != 2)))
            pause_briefly();
        uint32_t first = cell_state(page, 30), second = cell_state(page, 31);
        if (second == CELL_REFUSED) {
            last_refusal = *cell_word(page, 31, 28);
            refused = last_refusal == REFUSAL_SLOT_IN_USE;
        } else if (first == CELL_ACCEPTED && second == CELL_ACCEPTED) {
            both_accepted++;  // the server returned before the kernel saw the second
            struct timespec settle = {0, 10000000};
            nanosleep(&settle, NULL);
        }
        free_cell(page, 30);
        free_cell(page, 31);
        __atomic_store_n(&reply[0], 0, __ATOMIC_SEQ_CST);  // idle
    }
    if (refused)
        say(out, EBUSY, "second trap on A-stack slot 0 refused: slot in use (attempt %d; %d earlier "
            "pairs both accepted after the first returned)", attempts, both_accepted);
    else
        say(out, 0, "never refused as in use in %d attempts (last refusal code %u, %d pairs both "
            "accepted)", attempts, last_refusal, both_accepted);
}

// Garbage in every trap cell, every doorbell bit rung: the kernel must refuse or
// ignore each one, accept none. Our own cells are not in use while we do this.
static void garbage_traps(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    uint8_t *page = trap_page();
    if (page == NULL)
        return say(out, ENOENT, "no trap page mapped");
    uint8_t noise[64 * 32];
    if (syscall(SYS_getrandom, noise, sizeof noise, 0) != (long)sizeof noise)
        return outcome(out, -1, "getrandom");
    for (int cell = 0; cell < 32; cell++) {
        memcpy(page + 64 + 64 * cell, noise + 64 * cell, 64);
        uint32_t *state = cell_word(page, cell, 0);
        // Half of them claim to be posted; the other half are noise with a free state
        // (random noise would read as "accepted" in one cell of 256 without anyone acting).
        uint32_t claimed = cell % 2 == 0 ? CELL_POSTED : CELL_FREE;
        __atomic_store_n(state, (*state & ~0xffu) | claimed, __ATOMIC_RELEASE);
    }
    ring(page, 0xffffffffu);
    int64_t deadline = now_ns() + 2000000000;
    int posted;
    do {
        posted = 0;
        for (int cell = 0; cell < 32; cell++)
            posted += cell_state(page, cell) == CELL_POSTED;
        if (posted)
            pause_briefly();
    } while (posted && now_ns() < deadline);
    int refused = 0, accepted = 0;
    for (int cell = 0; cell < 32; cell++) {
        uint32_t s = cell_state(page, cell);
        refused += s == CELL_REFUSED;
        accepted += s == CELL_ACCEPTED;
        memset(page + 64 + 64 * cell, 0, 64);  // hand the cells back clean
    }
    if (accepted)
        return say(out, 0, "the kernel accepted %d garbage traps", accepted);
    if (posted)
        return say(out, ETIMEDOUT, "%d garbage traps still unanswered after 2 s", posted);
    say(out, EACCES, "16 garbage traps posted: %d refused, none accepted; 16 unposted ones ignored", refused);
}

// Mark every call in flight to this server done in its call records, without replying,
// then die: the kernel must fail the callers from its own linkages, not from `done`.
static void mark_done(uintptr_t start, uintptr_t stop, const char *name, void *context) {
    (void)name;
    int *marked = context;
    uint8_t *base = (uint8_t *)start;
    for (uintptr_t offset = 64; offset + 64 <= stop - start; offset += 64) {
        uint32_t *record = (uint32_t *)(base + offset);
        uint32_t sequence = __atomic_load_n(&record[0], __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&record[2], __ATOMIC_ACQUIRE) != sequence) {
            __atomic_store_n(&record[2], sequence, __ATOMIC_RELEASE);
            (*marked)++;
        }
    }
}

static void fake_done_and_die(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    int marked = 0;
    if (each_memfd("nk-records-hostile", mark_done, &marked) <= 0)
        return say(out, ENOENT, "no call records of its own mapped");
    if (marked == 0)
        return say(out, ENOENT, "no call in flight to mark done");
    syscall(SYS_exit_group, 0);
}

// Ring the kernel's doorbell without posting a trap, as fast as possible, for `target` ms.
static void doorbell_storm(const nk_attack_env *env, nk_attack_result *out) {
    uint8_t *page = trap_page();
    if (page == NULL)
        return say(out, ENOENT, "no trap page mapped");
    int64_t ms = env->target > 0 && env->target < 10000 ? env->target : 2000;
    int64_t deadline = now_ns() + ms * 1000000;
    long rings = 0;
    while (now_ns() < deadline) {
        ring(page, 1u << 31);  // cell 31 holds no posted trap
        rings++;
    }
    say(out, 0, "rang the doorbell %ld times in %ld ms without a trap", rings, (long)ms);
}

// MARK: the control channel

// Bytes that decode as no control message at all.
static void control_garbage(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    static const unsigned char garbage[] = {0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0x7f, 0, 1, 2};
    long rc = syscall(SYS_sendto, CONTROL_FD, garbage, sizeof garbage, MSG_NOSIGNAL, NULL, 0);
    if (rc < 0)
        return outcome(out, rc, "sendto(control channel)");
    struct timespec wait = {10, 0};  // the kernel's answer is to cut us off
    nanosleep(&wait, NULL);
    say(out, 0, "still connected 10 s after writing garbage on the control channel");
}

// Eight descriptors riding on a message that takes none: the kernel must close them
// all, or a domain could fill the kernel's descriptor table.
static void control_fds(const nk_attack_env *env, nk_attack_result *out) {
    static const unsigned char payload[] = {0xde, 0xad, 0xbe, 0xef};
    int sent = 0;
    for (; sent < 64; sent++)
        if (nk_send_descriptor_copies(CONTROL_FD, env->astack_fd, payload, sizeof payload, 0) != 0)
            break;
    if (sent == 0)
        return outcome(out, -1, "sendmsg(control channel, 8 fds)");
    struct timespec wait = {10, 0};
    nanosleep(&wait, NULL);
    say(out, 0, "still connected 10 s after sending %d messages with 8 descriptors each", sent);
}

// MARK: the operator's view

// Domains inherit the kernel's stdout and stderr (its log file). A line that looks like
// the kernel's own report, about another domain.
static void forge_log_line(const nk_attack_env *env, nk_attack_result *out) {
    (void)env;
    static const char line[] = "[0.000001] kernel: bench: stopped by sandbox: forged by hostile\n";
    outcome(out, syscall(SYS_write, 2, line, sizeof line - 1), "write a kernel-looking line to stderr");
}

// MARK: the table

static const struct {
    const char *name;
    void (*run)(const nk_attack_env *, nk_attack_result *);
} attacks[] = {
    {"open-passwd", open_passwd},
    {"openat2", openat2_call},
    {"open-path", open_path},
    {"create-path", create_path},
    {"durable-write", durable_write},
    {"learn-storm", learn_storm},
    {"open-proc-mem", open_proc_mem},
    {"stat-path", stat_path},
    {"list-proc", list_proc},
    {"operator-terminal", operator_terminal},
    {"fd-bomb", fd_bomb},
    {"socket-inet", socket_inet},
    {"connect-control", connect_control},
    {"connect-existing", connect_existing},
    {"socketpair", socketpair_unix},
    {"ptrace-attach", ptrace_attach},
    {"process-vm-writev", process_vm_write},
    {"process-vm-readv", process_vm_read},
    {"kill", kill_target},
    {"kill-all", kill_everyone},
    {"tgkill", tgkill_target},
    {"pidfd-open", pidfd_open_target},
    {"execve-sh", execve_shell},
    {"execveat-sh", execveat_shell},
    {"fork-bomb", fork_bomb},
    {"raw-fork", raw_fork},
    {"thread-bomb", thread_bomb},
    {"hold-threads", hold_threads},
    {"memory-bomb", memory_bomb},
    {"mount", mount_tmpfs},
    {"unshare", unshare_namespaces},
    {"setns", setns_control},
    {"chroot", chroot_root},
    {"io-uring-setup", io_uring},
    {"bpf", bpf_load},
    {"perf-event-open", perf_event},
    {"keyctl", keyctl_session},
    {"add-key", add_key_user},
    {"userfaultfd", userfault},
    {"memfd-create", memfd},
    {"seccomp-filter", seccomp_filter},
    {"tiocsti", terminal_inject},
    {"raise-limit", raise_limit},
    {"setuid", setuid_root},
    {"int80", int80},
    {"x32", x32},
    {"ftruncate-astack", ftruncate_astack},
    {"shrink-astack", shrink_astack},
    {"write-past-astack", write_past_astack},
    {"mremap-astack", mremap_astack},
    {"fallocate-astack", fallocate_astack},
    {"records-of-imports", records_of_imports},
    {"scribble-records", scribble_records},
    {"slot-in-use", slot_in_use},
    {"garbage-traps", garbage_traps},
    {"doorbell-storm", doorbell_storm},
    {"fake-done-and-die", fake_done_and_die},
    {"control-garbage", control_garbage},
    {"control-fds", control_fds},
    {"forge-log-line", forge_log_line},
};

enum { ATTACK_COUNT = sizeof attacks / sizeof attacks[0] };

int nk_attack_run(const char *name, const nk_attack_env *env, nk_attack_result *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ATTACK_COUNT; i++)
        if (strcmp(attacks[i].name, name) == 0) {
            errno = 0;
            attacks[i].run(env, out);
            return 0;
        }
    return -1;
}

const char *const *nk_attack_names(void) {
    static const char *names[ATTACK_COUNT + 1];
    for (int i = 0; i < ATTACK_COUNT; i++)
        names[i] = attacks[i].name;
    names[ATTACK_COUNT] = NULL;
    return names;
}
