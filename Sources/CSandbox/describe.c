// describe.c: a one-line, strace-like description of a refused system call, for the
// kernel's log: "socket(AF_INET, SOCK_STREAM, 0)", "openat(AT_FDCWD, \"/etc/passwd\", ...".
//
// Calls a hostile or confused service is likely to try have a format below, with
// symbolic arguments; anything else prints as name(0x..., ...) with its real argument
// count. Strings are read from the caller's memory through /proc/<pid>/mem.
#define _GNU_SOURCE
#include "internal.h"

#include <arpa/inet.h>
#include <asm/prctl.h>
#include <ctype.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

// One argument per letter: d int, l 64-bit int, x hex, s string, A dirfd,
// f address family, t socket type, a socket address (its length is the next
// argument), o open flags, S signal, P ptrace request, C clone flags, U namespace
// flags, B bpf command, K keyctl command, M seccomp operation, R rlimit resource,
// I ioctl request, p prctl option, F fcntl command, Q arch_prctl code, m memfd
// flags, u userfaultfd flags, . not shown (a run of them prints as "...").
static const struct { int nr; const char *args; } formats[] = {
    {SYS_socket, "ftd"},       {SYS_socketpair, "ftd."},   {SYS_connect, "dad"},
    {SYS_bind, "dad"},         {SYS_listen, "dd"},         {SYS_accept, "d.."},
    {SYS_accept4, "d..x"},     {SYS_open, "so"},           {SYS_openat, "Aso"},
    {SYS_creat, "so"},         {SYS_execve, "s.."},        {SYS_execveat, "As..x"},
    {SYS_kill, "dS"},          {SYS_tkill, "dS"},          {SYS_tgkill, "ddS"},
    {SYS_ptrace, "Pd.."},      {SYS_mount, "sssx."},       {SYS_umount2, "sx"},
    {SYS_unshare, "U"},        {SYS_setns, "dU"},          {SYS_clone, "C...."},
    {SYS_fork, ""},            {SYS_vfork, ""},            {SYS_io_uring_setup, "d."},
    {SYS_bpf, "B.d"},          {SYS_perf_event_open, ".dddx"}, {SYS_keyctl, "K...."},
    {SYS_add_key, "ss..d"},    {SYS_request_key, "ss.d"},  {SYS_userfaultfd, "u"},
    {SYS_process_vm_readv, "d....x"}, {SYS_process_vm_writev, "d....x"},
    {SYS_pidfd_open, "dx"},    {SYS_pidfd_send_signal, "dS.x"}, {SYS_pidfd_getfd, "ddx"},
    {SYS_memfd_create, "sm"},  {SYS_init_module, "..s"},   {SYS_finit_module, "dsx"},
    {SYS_ioctl, "dI."},        {SYS_dup, "d"},             {SYS_dup2, "dd"},
    {SYS_dup3, "ddx"},         {SYS_fcntl, "dF."},         {SYS_chdir, "s"},
    {SYS_unlink, "s"},         {SYS_mkdir, "sx"},          {SYS_stat, "s."},
    {SYS_access, "sx"},        {SYS_chroot, "s"},          {SYS_pivot_root, "ss"},
    {SYS_seccomp, "Mx."},      {SYS_prctl, "p...."},       {SYS_arch_prctl, "Qx"},
    {SYS_prlimit64, "dR.."},   {SYS_setrlimit, "R."},      {SYS_ftruncate, "dl"},
    {SYS_fallocate, "dxll"},   {SYS_setuid, "d"},          {SYS_setgid, "d"},
    {SYS_setreuid, "dd"},      {SYS_setregid, "dd"},       {SYS_setresuid, "ddd"},
    {SYS_setresgid, "ddd"},    {SYS_setgroups, "d."},      {SYS_capset, ".."},
    {SYS_open_tree, "Asx"},    {SYS_move_mount, "AsAsx"},  {SYS_fsopen, "sx"},
    // What learning mode reports for the paths a service uses.
    {SYS_openat2, "As.d"},     {SYS_rename, "ss"},         {SYS_renameat, "AsAs"},
    {SYS_renameat2, "AsAsx"},  {SYS_mkdirat, "Asx"},       {SYS_unlinkat, "Asx"},
    {SYS_rmdir, "s"},          {SYS_newfstatat, "As.x"},   {SYS_statx, "Asxx."},
    {SYS_readlink, "s.d"},     {SYS_readlinkat, "As.d"},   {SYS_truncate, "sl"},
    {SYS_link, "ss"},          {SYS_symlink, "ss"},        {SYS_creat, "sx"},
    {SYS_fsync, "d"},          {SYS_fdatasync, "d"},       {SYS_lstat, "s."},
};

typedef struct { uint64_t value; const char *name; } symbol;
#define SYM(x) {(uint64_t)(x), #x}

static const symbol families[] = {
    SYM(AF_UNIX), SYM(AF_INET), SYM(AF_INET6), SYM(AF_NETLINK), SYM(AF_PACKET), SYM(AF_VSOCK), {0, 0}};
static const symbol socket_types[] = {
    SYM(SOCK_STREAM), SYM(SOCK_DGRAM), SYM(SOCK_RAW), SYM(SOCK_SEQPACKET), SYM(SOCK_PACKET), {0, 0}};
static const symbol socket_flags[] = {SYM(SOCK_NONBLOCK), SYM(SOCK_CLOEXEC), {0, 0}};
static const symbol open_flags[] = {
    SYM(O_CREAT), SYM(O_EXCL), SYM(O_NOCTTY), SYM(O_TRUNC), SYM(O_APPEND), SYM(O_NONBLOCK),
    SYM(O_DIRECTORY), SYM(O_NOFOLLOW), SYM(O_CLOEXEC), SYM(O_PATH), {0, 0}};
static const symbol namespace_flags[] = {
    SYM(CLONE_NEWUSER), SYM(CLONE_NEWPID), SYM(CLONE_NEWNET), SYM(CLONE_NEWNS),
    SYM(CLONE_NEWIPC), SYM(CLONE_NEWUTS), SYM(CLONE_NEWCGROUP), SYM(CLONE_NEWTIME),
    SYM(CLONE_FILES), SYM(CLONE_FS), SYM(CLONE_SYSVSEM), {0, 0}};
static const symbol clone_flags[] = {
    SYM(CLONE_VM), SYM(CLONE_FS), SYM(CLONE_FILES), SYM(CLONE_SIGHAND), SYM(CLONE_PIDFD),
    SYM(CLONE_PTRACE), SYM(CLONE_VFORK), SYM(CLONE_PARENT), SYM(CLONE_THREAD),
    SYM(CLONE_NEWNS), SYM(CLONE_SYSVSEM), SYM(CLONE_SETTLS), SYM(CLONE_PARENT_SETTID),
    SYM(CLONE_CHILD_CLEARTID), SYM(CLONE_CHILD_SETTID), SYM(CLONE_NEWCGROUP),
    SYM(CLONE_NEWUTS), SYM(CLONE_NEWIPC), SYM(CLONE_NEWUSER), SYM(CLONE_NEWPID),
    SYM(CLONE_NEWNET), SYM(CLONE_IO), {0, 0}};
static const symbol ptrace_requests[] = {
    SYM(PTRACE_TRACEME), SYM(PTRACE_PEEKTEXT), SYM(PTRACE_PEEKDATA), SYM(PTRACE_POKETEXT),
    SYM(PTRACE_POKEDATA), SYM(PTRACE_CONT), SYM(PTRACE_KILL), SYM(PTRACE_ATTACH),
    SYM(PTRACE_DETACH), SYM(PTRACE_SEIZE), SYM(PTRACE_INTERRUPT), {0, 0}};
static const symbol keyctl_commands[] = {
    SYM(KEYCTL_GET_KEYRING_ID), SYM(KEYCTL_JOIN_SESSION_KEYRING), SYM(KEYCTL_UPDATE),
    SYM(KEYCTL_REVOKE), SYM(KEYCTL_DESCRIBE), SYM(KEYCTL_READ), SYM(KEYCTL_SEARCH),
    SYM(KEYCTL_LINK), SYM(KEYCTL_SETPERM), {0, 0}};
static const symbol seccomp_operations[] = {
    SYM(SECCOMP_SET_MODE_STRICT), SYM(SECCOMP_SET_MODE_FILTER), SYM(SECCOMP_GET_ACTION_AVAIL),
    SYM(SECCOMP_GET_NOTIF_SIZES), {0, 0}};
static const symbol rlimit_resources[] = {
    SYM(RLIMIT_CPU), SYM(RLIMIT_FSIZE), SYM(RLIMIT_DATA), SYM(RLIMIT_STACK), SYM(RLIMIT_CORE),
    SYM(RLIMIT_RSS), SYM(RLIMIT_NPROC), SYM(RLIMIT_NOFILE), SYM(RLIMIT_MEMLOCK), SYM(RLIMIT_AS),
    SYM(RLIMIT_LOCKS), SYM(RLIMIT_SIGPENDING), SYM(RLIMIT_MSGQUEUE), SYM(RLIMIT_NICE),
    SYM(RLIMIT_RTPRIO), SYM(RLIMIT_RTTIME), {0, 0}};
static const symbol ioctl_requests[] = {
    SYM(TIOCSTI), SYM(TIOCSCTTY), SYM(TIOCNOTTY), SYM(TIOCLINUX), SYM(TIOCSETD), SYM(TCSETS),
    SYM(TCSETSW), SYM(TCSETSF), SYM(TIOCSWINSZ), SYM(TIOCGWINSZ), SYM(FIONREAD), SYM(FIONBIO),
    SYM(FIOCLEX), SYM(FIONCLEX), SYM(FIOASYNC), {0, 0}};
static const symbol prctl_options[] = {
    SYM(PR_SET_PDEATHSIG), SYM(PR_SET_DUMPABLE), SYM(PR_SET_KEEPCAPS), SYM(PR_SET_SECCOMP),
    SYM(PR_CAPBSET_DROP), SYM(PR_SET_SECUREBITS), SYM(PR_SET_MM), SYM(PR_SET_PTRACER),
    SYM(PR_SET_CHILD_SUBREAPER), SYM(PR_SET_NO_NEW_PRIVS), SYM(PR_CAP_AMBIENT),
    SYM(PR_SET_TSC), SYM(PR_SET_SPECULATION_CTRL), {0, 0}};
static const symbol fcntl_commands[] = {
    SYM(F_DUPFD), SYM(F_DUPFD_CLOEXEC), SYM(F_GETLK), SYM(F_SETLK), SYM(F_SETLKW),
    SYM(F_SETOWN), SYM(F_GETOWN), SYM(F_SETSIG), SYM(F_SETLEASE), SYM(F_NOTIFY),
    SYM(F_SETPIPE_SZ), SYM(F_ADD_SEALS), SYM(F_GET_SEALS), SYM(F_OFD_SETLK), {0, 0}};
static const symbol arch_prctl_codes[] = {
    SYM(ARCH_SET_GS), SYM(ARCH_SET_FS), SYM(ARCH_GET_FS), SYM(ARCH_GET_GS),
    SYM(ARCH_GET_CPUID), SYM(ARCH_SET_CPUID), {0, 0}};
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
static const symbol memfd_flags[] = {
    SYM(MFD_CLOEXEC), SYM(MFD_ALLOW_SEALING), SYM(MFD_HUGETLB), SYM(MFD_NOEXEC_SEAL),
    SYM(MFD_EXEC), {0, 0}};
static const symbol userfaultfd_flags[] = {
    SYM(O_CLOEXEC), SYM(O_NONBLOCK), {1, "UFFD_USER_MODE_ONLY"}, {0, 0}};
static const symbol bpf_commands[] = {
    SYM(BPF_MAP_CREATE), SYM(BPF_MAP_LOOKUP_ELEM), SYM(BPF_MAP_UPDATE_ELEM),
    SYM(BPF_MAP_DELETE_ELEM), SYM(BPF_MAP_GET_NEXT_KEY), SYM(BPF_PROG_LOAD), SYM(BPF_OBJ_PIN),
    SYM(BPF_OBJ_GET), SYM(BPF_PROG_ATTACH), SYM(BPF_PROG_DETACH), {0, 0}};

// Bounded append-only text; overflow truncates quietly.
typedef struct { char *buf; size_t size, used; } text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->used, t->size - t->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->used = t->used + (size_t)n < t->size ? t->used + (size_t)n : t->size - 1;
}

static const char *symbol_name(uint64_t value, const symbol *table) {
    for (; table->name; table++)
        if (table->value == value)
            return table->name;
    return NULL;
}

static void put_enum(text *t, uint64_t value, const symbol *table) {
    const char *name = symbol_name(value, table);
    name ? put(t, "%s", name) : put(t, "%lld", (long long)(int)value);
}

// "A|B|0x40": known bits by name, the rest in hex; 0 prints as "0".
static void put_flags(text *t, uint64_t value, const symbol *table) {
    const char *sep = "";
    for (; table->name && value; table++)
        if (table->value && (value & table->value) == table->value) {
            put(t, "%s%s", sep, table->name);
            value &= ~table->value;
            sep = "|";
        }
    if (value || !*sep)
        put(t, "%s0x%llx", sep, (unsigned long long)value);
}

static void put_signal(text *t, uint64_t sig) {
    const char *name = sigabbrev_np((int)sig);
    if (name)
        put(t, "SIG%s", name);
    else
        put(t, "%d", (int)sig);
}

static void put_open_flags(text *t, uint64_t flags) {
    static const char *const modes[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    put(t, "%s", modes[flags & O_ACCMODE]);
    if (flags & ~(uint64_t)O_ACCMODE) {
        put(t, "|");
        put_flags(t, flags & ~(uint64_t)O_ACCMODE, open_flags);
    }
}

// Up to len bytes of the caller's memory at addr, or -1. The pid could have died and
// been reused while we read; the notification is still pending only if it has not, so
// the bytes are trusted only when NOTIF_ID_VALID says so afterwards.
static ssize_t read_caller(const nk_violation *v, int notify_fd, uint64_t id, uint64_t addr,
                           void *buffer, size_t len) {
    char path[32];
    snprintf(path, sizeof path, "/proc/%d/mem", v->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, buffer, len, (off_t)addr) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0 || ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
        return -1;
    return n;
}

// n bytes, quoted, up to the first NUL; "..." after the quote if there was none.
static void put_quoted(text *t, const char *s, size_t n) {
    put(t, "\"");
    size_t i = 0;
    for (; i < n && s[i]; i++)
        if (s[i] == '"' || s[i] == '\\')
            put(t, "\\%c", s[i]);
        else if (isprint((unsigned char)s[i]))
            put(t, "%c", s[i]);
        else
            put(t, "\\x%02x", (unsigned char)s[i]);
    put(t, i == n ? "\"..." : "\"");
}

// The string at addr in the caller's memory, quoted.
static void put_string(text *t, const nk_violation *v, int notify_fd, uint64_t id,
                       uint64_t addr) {
    char s[96];
    ssize_t n = read_caller(v, notify_fd, id, addr, s, sizeof s);
    if (n < 0)
        put(t, "0x%llx", (unsigned long long)addr);
    else
        put_quoted(t, s, (size_t)n);
}

// The socket address at addr, len bytes long: {AF_UNIX, "/path"}, {AF_UNIX, @"abstract"},
// {AF_INET, 10.0.0.1:80}, {AF_INET6, [::1]:80}, or the family alone.
static void put_sockaddr(text *t, const nk_violation *v, int notify_fd, uint64_t id,
                         uint64_t addr, uint64_t len) {
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    ssize_t n = read_caller(v, notify_fd, id, addr, &sa, len < sizeof sa ? (size_t)len : sizeof sa);
    if (n < (ssize_t)sizeof sa.ss_family) {
        put(t, "0x%llx", (unsigned long long)addr);
        return;
    }
    put(t, "{");
    put_enum(t, sa.ss_family, families);
    char ip[INET6_ADDRSTRLEN];
    if (sa.ss_family == AF_UNIX && n > (ssize_t)offsetof(struct sockaddr_un, sun_path)) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&sa;
        size_t path_len = (size_t)n - offsetof(struct sockaddr_un, sun_path);
        int abstract = un->sun_path[0] == 0;
        put(t, ", %s", abstract ? "@" : "");
        put_quoted(t, un->sun_path + abstract, path_len - (size_t)abstract);
    } else if (sa.ss_family == AF_INET && n >= (ssize_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
        put(t, ", %s:%u", inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip), ntohs(in->sin_port));
    } else if (sa.ss_family == AF_INET6 && n >= (ssize_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
        put(t, ", [%s]:%u", inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip), ntohs(in6->sin6_port));
    }
    put(t, "}");
}

static void put_arg(text *t, char kind, int i, const nk_violation *v, int notify_fd,
                    uint64_t id) {
    uint64_t a = v->args[i];
    switch (kind) {
    case 'd': put(t, "%d", (int)a); break;
    case 'l': put(t, "%lld", (long long)a); break;
    case 'a': put_sockaddr(t, v, notify_fd, id, a, i < 5 ? v->args[i + 1] : 0); break;
    case 'K': put_enum(t, a, keyctl_commands); break;
    case 'M': put_enum(t, a, seccomp_operations); break;
    case 'R': put_enum(t, a, rlimit_resources); break;
    case 'I':  // unknown requests read better in hex, as the headers define them
        symbol_name(a, ioctl_requests) ? put_enum(t, a, ioctl_requests)
                                       : put(t, "0x%llx", (unsigned long long)a);
        break;
    case 'p': put_enum(t, a, prctl_options); break;
    case 'F': put_enum(t, a, fcntl_commands); break;
    case 'Q': put_enum(t, a, arch_prctl_codes); break;
    case 'm': put_flags(t, a, memfd_flags); break;
    case 'u': put_flags(t, a, userfaultfd_flags); break;
    case 'x': put(t, "0x%llx", (unsigned long long)a); break;
    case 's': put_string(t, v, notify_fd, id, a); break;
    case 'A': (int)a == AT_FDCWD ? put(t, "AT_FDCWD") : put(t, "%d", (int)a); break;
    case 'f': put_enum(t, a, families); break;
    case 't':
        put_enum(t, a & 0xf, socket_types);
        if (a & ~0xfULL) {
            put(t, "|");
            put_flags(t, a & ~0xfULL, socket_flags);
        }
        break;
    case 'o': put_open_flags(t, a); break;
    case 'S': put_signal(t, a); break;
    case 'P': put_enum(t, a, ptrace_requests); break;
    case 'U': put_flags(t, a, namespace_flags); break;
    case 'B': put_enum(t, a, bpf_commands); break;
    case 'C':  // the low byte is the signal the parent gets when the child exits
        put_flags(t, a & ~(uint64_t)CSIGNAL, clone_flags);
        if (a & CSIGNAL) {
            put(t, "|");
            put_signal(t, a & CSIGNAL);
        }
        break;
    }
}

static const char *format_for(int nr) {
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].nr == nr)
            return formats[i].args;
    return NULL;
}

static void put_call(text *t, const nk_violation *v, int notify_fd, uint64_t id) {
    const char *format = format_for(v->syscall_nr);
    put(t, "%s(", v->syscall_name);
    if (format == NULL) {
        for (int i = 0; i < nk_syscall_arg_count(v->syscall_nr); i++)
            put(t, "%s0x%llx", i ? ", " : "", (unsigned long long)v->args[i]);
    } else {
        for (int i = 0; format[i]; i++) {
            const char *sep = i ? ", " : "";
            if (format[i] != '.') {
                put(t, "%s", sep);
                put_arg(t, format[i], i, v, notify_fd, id);
            } else if (i == 0 || format[i - 1] != '.') {
                put(t, "%s...", sep);
            }
        }
    }
    put(t, ")");
}

void nk_describe_violation(nk_violation *v, int notify_fd, uint64_t id) {
    int x32 = v->arch == AUDIT_ARCH_X86_64 && (v->syscall_nr & __X32_SYSCALL_BIT);
    int nr = v->syscall_nr & ~__X32_SYSCALL_BIT;
    uint32_t arch = v->arch == AUDIT_ARCH_I386 ? SCMP_ARCH_X86 : SCMP_ARCH_X86_64;
    char *name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name)
        snprintf(v->syscall_name, sizeof v->syscall_name, "%s", name);
    else
        snprintf(v->syscall_name, sizeof v->syscall_name, "syscall %d", nr);
    free(name);

    text t = {v->description, sizeof v->description, 0};
    v->description[0] = 0;
    if (x32 || v->arch != AUDIT_ARCH_X86_64)  // arguments mean other things there
        put(&t, "%s syscall %d (%s)", x32 ? "x32" : v->arch == AUDIT_ARCH_I386 ? "i386" : "foreign",
            nr, v->syscall_name);
    else
        put_call(&t, v, notify_fd, id);
}
