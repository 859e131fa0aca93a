// File descriptors travel between domains and the kernel as SCM_RIGHTS ancillary data.
#define _GNU_SOURCE
#include "nk_syscalls.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { MAX_FDS = 8 };

ssize_t nk_send_with_fds(int socket, const void *data, size_t len, const int *fds, int fd_count) {
    if (fd_count < 0 || fd_count > MAX_FDS) { errno = EINVAL; return -1; }
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    union { char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd_count > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)fd_count);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)fd_count);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)fd_count);
    }
    ssize_t r;
    do { r = sendmsg(socket, &msg, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
    return r;
}

static void close_received(struct msghdr *msg) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *received = (int *)CMSG_DATA(c);
        for (int i = 0; i < n; i++) close(received[i]);
    }
}

ssize_t nk_recv_with_fds(int socket, void *data, size_t len, int *fds, int *fd_count) {
    int capacity = *fd_count;
    *fd_count = 0;
    struct iovec iov = { .iov_base = data, .iov_len = len };
    union { char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
    ssize_t r;
    do { r = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC); } while (r < 0 && errno == EINTR);
    if (r <= 0) return r;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        close_received(&msg);
        errno = EMSGSIZE;
        return -1;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (*fd_count + n > capacity) {
            close_received(&msg);
            *fd_count = 0;
            errno = EMSGSIZE;
            return -1;
        }
        memcpy(fds + *fd_count, CMSG_DATA(c), sizeof(int) * (size_t)n);
        *fd_count += n;
    }
    return r;
}

int nk_peer_credentials(int socket, uid_t *uid, pid_t *pid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *uid = cred.uid;
    *pid = cred.pid;
    return 0;
}

int nk_set_cloexec(int fd) {
    int flags = fcntl(fd, F_GETFD);
    return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

int nk_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}
