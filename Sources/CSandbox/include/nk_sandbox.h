// nk_sandbox.h: spawn a protection domain and build its seccomp filter.
//
// The kernel (supervisor) calls these from ONE long-lived thread. The child side of
// nk_spawn_domain runs only raw syscalls between clone3 and execve: no malloc, no locks,
// no libc wrappers that may take locks.
#ifndef NK_SANDBOX_H
#define NK_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// Which namespaces to ask for (bit flags).
enum {
    NK_NS_USER = 1 << 0,
    NK_NS_PID = 1 << 1,
    NK_NS_NET = 1 << 2,
    NK_NS_IPC = 1 << 3,
    NK_NS_UTS = 1 << 4,
    NK_NS_MOUNT = 1 << 5,
    NK_NS_CGROUP = 1 << 6,
};

// What the host supports, probed once by the kernel at boot.
typedef struct nk_host_support {
    uint32_t namespaces;     // NK_NS_* that a child can actually get here (each tried
                             // together with NK_NS_USER when that works: ask for them so)
    int landlock_abi;        // 0 = no Landlock, else the ABI version
    int seccomp_notify;      // 1 if SECCOMP_RET_USER_NOTIF + NEW_LISTENER work
    int landlock_scoped;     // 1 if LANDLOCK_SCOPE_SIGNAL / ABSTRACT_UNIX_SOCKET exist (ABI >= 6)
    int own_root;            // 1 if a child can have its own root and /proc (mount and pid
                             // namespaces, and the tmpfs and proc mounts work here)
} nk_host_support;

int nk_probe_host(nk_host_support *out);  // always returns 0

// A compiled seccomp program (BPF bytes exported by libseccomp in the parent).
typedef struct nk_filter {
    void *bytes;             // struct sock_filter array, malloc'd; free with nk_filter_free
    size_t length;           // in bytes
    uint32_t instructions;
    int notify;              // 1 if the default action is SECCOMP_RET_USER_NOTIF: the child
                             // loads it with SECCOMP_FILTER_FLAG_NEW_LISTENER
} nk_filter;

// Build the allow-list filter for a domain. extra_syscalls are names the image grants
// on top of the base allow-list (filter.c lists it). On error returns -1 and writes a
// message into err (an unknown name is named; so is a call the base list only allows
// with checked arguments: clone, clone3, fcntl, ioctl, arch_prctl, prctl, prlimit64,
// execveat).
// watch_paths (learning mode only): the calls that name a path (learn.c lists them) are
// sent to the kernel even where the filter allows them, so it can see every path.
int nk_filter_build(const char *const *extra_syscalls, int extra_count, int watch_paths,
                    nk_filter *out, char *err, size_t err_len);
// 1 if the base allow-list allows nr outright (without an image's extra_syscalls).
int nk_filter_base_allows(int nr);
void nk_filter_free(nk_filter *filter);

typedef struct nk_spawn_spec {
    const char *executable;          // absolute path, executed with execveat(AT_EMPTY_PATH)
    char *const *argv;               // NULL-terminated
    char *const *envp;               // NULL-terminated
    const int *keep_fds;             // fds the child keeps: dup'd to 3, 4, ... in this order
    int keep_fd_count;               // everything else is closed; fd 0 is /dev/null
    int capture_output;              // non-zero: output_fd becomes the child's fds 1 and 2
    int output_fd;                   // (the kernel reads it, so a domain cannot forge its log);
                                     // zero: fds 1 and 2 are /dev/null too
    int own_root;                    // non-zero: an empty root with only the executable, the
                                     // grants and its own /proc (needs NK_NS_MOUNT and
                                     // NK_NS_PID; nk_host_support.own_root says if it works)
    uint32_t namespaces;             // NK_NS_* the child is created in (clone3 flags)
    uint64_t limit_address_space;    // bytes; 0 = leave as is (limits only ever lower)
    uint64_t limit_open_files;       // 0 = leave as is
    uint64_t limit_processes;        // 0 = leave as is
    const char *const *read_only_paths;  int read_only_count;   // Landlock grants
    const char *const *read_write_paths; int read_write_count;
    int use_landlock;                // 0 = skip Landlock entirely; else it is required
    const nk_filter *filter;         // NULL = no seccomp (measurement only)
    uint32_t outside_id;             // a root kernel: the host uid and gid the domain's
                                     // namespace root maps to (its own, one per service);
                                     // 0 = the overflow ids. Ignored when not root: an
                                     // unprivileged kernel can map only its own ids.
} nk_spawn_spec;

enum { NK_MAX_KEEP_FDS = 64 };
// read_only_count + read_write_count at most (each is a mount in the domain's own root).
enum { NK_MAX_GRANTS = 64 };

typedef struct nk_spawned {
    pid_t pid;
    int pidfd;                       // to watch for the domain's death
    int notify_fd;                   // seccomp user-notification listener, or -1
} nk_spawned;

// Spawn a domain. Returns 0, or -1 with a message in err (the child's failure before
// execve is reported here too, with the step that failed and its errno). On success the
// child has already called execve; the caller owns pidfd and notify_fd and must reap the
// child (waitid(P_PIDFD, pidfd, ..., WEXITED)). On failure nothing is left to clean up.
// keep_fds must be < 1000 (the child parks private fds on 1000 and 1001 until execve)
// and keep_fd_count <= NK_MAX_KEEP_FDS. The domain dies when the calling thread exits.
int nk_spawn_domain(const nk_spawn_spec *spec, nk_spawned *out, char *err, size_t err_len);

// A syscall the filter stopped, received on a notify fd.
typedef struct nk_violation {
    pid_t pid;
    int syscall_nr;
    uint32_t arch;
    uint64_t args[6];
    char syscall_name[32];   // e.g. "socket" (also for x32 / i386 calls); "syscall 999" if unknown
    char description[256];   // e.g. "socket(AF_INET, SOCK_STREAM, 0)"
    uint64_t id;             // the notification's id, to answer it (learning mode only)
} nk_violation;

// Receive one notification (blocking) and fill `out`. The call is never answered: the
// refused thread stays blocked in it until the caller kills the domain (which it must),
// so a refused call never returns into the domain. Returns 0, or -1 with errno set
// (EINTR: try again; ENOENT: the domain is gone; EAGAIN: the call was withdrawn, its
// thread interrupted or killed, and the domain may live on).
int nk_violation_receive(int notify_fd, nk_violation *out);

// Learning mode only (`nkctl boot --learn`): let the refused call run as if the filter
// allowed it (SECCOMP_USER_NOTIF_FLAG_CONTINUE). The domain is then not confined by its
// syscall filter. Returns 0, or -1 with errno set (ENOENT: the domain died or the
// thread was interrupted).
int nk_violation_continue(int notify_fd, uint64_t id);

// Learning mode only: answer the call with -error instead of running it (a call that
// could make the kernel's own reads of the domain's memory wait, like userfaultfd).
int nk_violation_refuse(int notify_fd, uint64_t id, int error);

// What a call does to a path it names (learning mode).
enum nk_path_access_kind {
    NK_PATH_SEE = 1,     // stat, access, readlink, chdir: the path must exist
    NK_PATH_READ,        // read it (link's source)
    NK_PATH_WRITE,       // change it: truncate, chmod, chown, utimens
    NK_PATH_OPEN,        // open: flags says read, write or create
    NK_PATH_CREATE,      // a new entry in its directory: mkdir, mknod, symlink, rename's target
    NK_PATH_REMOVE,      // an entry leaves its directory: unlink, rmdir, rename's source
};

enum nk_path_status {
    NK_PATH_OK = 0,
    NK_PATH_NONE,        // an empty path (AT_EMPTY_PATH): the call names a descriptor
    NK_PATH_UNREADABLE,  // a bad pointer, or longer than NK_LEARN_PATH_MAX
    NK_PATH_UNRESOLVED,  // relative to a descriptor that is not a directory
};

enum { NK_LEARN_PATH_MAX = 4096 };

typedef struct nk_path_access {
    int32_t access;      // nk_path_access_kind
    int32_t status;      // nk_path_status; path is set only for NK_PATH_OK
    int32_t follow;      // 1 if a symlink in the last component is followed
    uint64_t flags;      // open flags, for NK_PATH_OPEN
    char path[NK_LEARN_PATH_MAX];  // absolute, as the domain named it (not normalised)
} nk_path_access;

// 1 if nr names a path nk_learn_paths can decode.
int nk_is_path_syscall(int nr);

// The paths the notified call names (v from nk_violation_receive, its id still pending),
// into out[0] and out[1]. Returns how many (0 if the call names none), or -1 when the
// notification is no longer pending (nothing read may be trusted then).
int nk_learn_paths(const nk_violation *v, int notify_fd, nk_path_access out[2]);

#ifdef __cplusplus
}
#endif
#endif
