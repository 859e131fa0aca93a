// inflight.c: `nk-hostile --hold-in-flight ID`, run by a test (as root) outside any
// kernel. It becomes host uid and gid ID, a domain's, and keeps as many SCM_RIGHTS
// descriptors in flight as Linux lets that uid: on socketpairs nobody reads. Linux
// counts descriptors in flight per user (too_many_unix_fds: more than the sender's
// RLIMIT_NOFILE refuses with ETOOMANYREFS), so while this runs every other process of
// that uid (a restarting domain's spawn child sending its seccomp listener, say) is
// refused. It prints how many it holds, then waits for its stdin to close.
#define _GNU_SOURCE
#include "nk_hostile.h"
#include "descriptor_copies.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { PAIRS = 16 };

// One message carrying `payload` and DESCRIPTOR_COPIES copies of fd on `socket`; the
// errno, or 0. Both attacks that ride descriptors on messages send them this way.
int nk_send_descriptor_copies(int socket, int fd, const void *payload, size_t length, int flags) {
    int fds[DESCRIPTOR_COPIES];
    for (int i = 0; i < DESCRIPTOR_COPIES; i++)
        fds[i] = fd;
    struct iovec iov = {(void *)payload, length};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof fds)];
    } control;
    struct msghdr header = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    struct cmsghdr *c = CMSG_FIRSTHDR(&header);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    // The raw syscall: sendmsg is one of the calls a domain's filter lets through.
    return syscall(SYS_sendmsg, socket, &header, flags | MSG_NOSIGNAL) == (long)length ? 0 : errno;
}

int nk_hold_in_flight(unsigned id) {
    // The limit it fills to is its own RLIMIT_NOFILE: far above a domain's 64.
    struct rlimit files = {1024, 1024};
    if (setrlimit(RLIMIT_NOFILE, &files) != 0 || setgroups(0, NULL) != 0 ||
        setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) {
        printf("0 cannot become %u: %s\n", id, strerror(errno));
        return 1;
    }
    int held = 0, error = 0;
    for (int pair = 0; pair < PAIRS && error != ETOOMANYREFS; pair++) {
        int ends[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
            error = errno;
            break;
        }
        static const char byte = 0;
        while ((error = nk_send_descriptor_copies(ends[0], ends[1], &byte, 1, MSG_DONTWAIT)) == 0)
            held += DESCRIPTOR_COPIES;
    }
    printf("%d %s\n", held, strerror(error));
    fflush(stdout);
    for (;;) {
        char byte;
        ssize_t n = read(0, &byte, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
            return 0;
    }
}
