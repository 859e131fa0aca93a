// relay: client -> middle -> server -> middle -> client over Unix
// SOCK_SEQPACKET socketpairs — the conventional-RPC floor (a message-passing
// kernel in the middle) that LRPC is meant to beat.
#define _GNU_SOURCE
#include "nkfloor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// 16 bytes, as a small RPC request/reply would be.
struct msg {
    uint64_t seq;
    uint64_t arg;
};

struct relay {
    const struct nk_run *run;
    int cm[2]; // client side [0], middle side [1]
    int ms[2]; // middle side [0], server side [1]
};

// SO_RCVTIMEO bounds every receive without an extra poll() per message,
// which would add a syscall to the very path being measured.
static int set_timeout(int fd) {
    struct timeval tv = {NK_TIMEOUT_SEC, 0};
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static int recv_msg(int fd, struct msg *m, const char *peer) {
    for (;;) {
        ssize_t n = recv(fd, m, sizeof *m, 0);
        if (n == (ssize_t)sizeof *m)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            nk_child_error("no message from %s within %d s", peer, NK_TIMEOUT_SEC);
        else if (n == 0)
            nk_child_error("%s closed the connection", peer);
        else if (n < 0)
            nk_child_error("recv from %s: %s", peer, strerror(errno));
        else
            nk_child_error("short message (%zd bytes) from %s", n, peer);
        return -1;
    }
}

// MSG_NOSIGNAL: a dead peer should produce a message naming it, not SIGPIPE.
static int send_msg(int fd, const struct msg *m, const char *peer) {
    for (;;) {
        ssize_t n = send(fd, m, sizeof *m, MSG_NOSIGNAL);
        if (n == (ssize_t)sizeof *m)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        nk_child_error("send to %s: %s", peer, n < 0 ? strerror(errno) : "short write");
        return -1;
    }
}

static int client(const struct relay *rl) {
    const struct nk_run *run = rl->run;
    int fd = rl->cm[0];
    uint64_t total = (uint64_t)(run->warmup + run->iterations);
    // Chained timestamps, as in handoff.c: one clock read per call.
    uint64_t prev = nk_now_ns();
    for (uint64_t i = 1; i <= total; i++) {
        struct msg m = {.seq = i, .arg = i * 3}, reply;
        if (send_msg(fd, &m, "middle") != 0 || recv_msg(fd, &reply, "middle") != 0)
            return 1;
        // Check the reply really came from the server for this call.
        if (reply.seq != i || reply.arg != i * 3 + 1) {
            nk_child_error("wrong reply for call %llu", (unsigned long long)i);
            return 1;
        }
        uint64_t now = nk_now_ns();
        if (i > (uint64_t)run->warmup)
            run->samples[i - run->warmup - 1] = now - prev;
        prev = now;
    }
    return 0;
}

static int middle(const struct relay *rl) {
    uint64_t total = (uint64_t)(rl->run->warmup + rl->run->iterations);
    struct msg m;
    for (uint64_t i = 1; i <= total; i++) {
        if (recv_msg(rl->cm[1], &m, "client") != 0 || send_msg(rl->ms[0], &m, "server") != 0 ||
            recv_msg(rl->ms[0], &m, "server") != 0 || send_msg(rl->cm[1], &m, "client") != 0)
            return 1;
    }
    return 0;
}

static int server(const struct relay *rl) {
    uint64_t total = (uint64_t)(rl->run->warmup + rl->run->iterations);
    struct msg m;
    for (uint64_t i = 1; i <= total; i++) {
        if (recv_msg(rl->ms[1], &m, "middle") != 0)
            return 1;
        m.arg += 1;
        if (send_msg(rl->ms[1], &m, "middle") != 0)
            return 1;
    }
    return 0;
}

static void close_all_but(const struct relay *rl, int keep1, int keep2) {
    const int fds[4] = {rl->cm[0], rl->cm[1], rl->ms[0], rl->ms[1]};
    for (int k = 0; k < 4; k++)
        if (fds[k] != keep1 && fds[k] != keep2)
            close(fds[k]);
}

// Each process closes the ends it doesn't use, so when a role dies its peers
// see EOF at once instead of waiting out the timeout.
static int relay_role(int role, void *ctx) {
    const struct relay *rl = ctx;
    switch (role) {
    case 0: close_all_but(rl, rl->cm[0], -1); return client(rl);
    case 1: close_all_but(rl, rl->cm[1], rl->ms[0]); return middle(rl);
    default: close_all_but(rl, rl->ms[1], -1); return server(rl);
    }
}

static void parent_close(void *ctx) {
    close_all_but(ctx, -1, -1);
}

int nk_run_relay(const struct nk_run *run) {
    static const char *const names[] = {"client", "middle", "server"};
    struct relay rl = {.run = run};
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rl.cm) != 0)
        goto fail;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rl.ms) != 0) {
        int saved = errno;
        close(rl.cm[0]);
        close(rl.cm[1]);
        errno = saved;
        goto fail;
    }
    for (int k = 0; k < 2; k++)
        if (set_timeout(rl.cm[k]) != 0 || set_timeout(rl.ms[k]) != 0) {
            int saved = errno;
            close_all_but(&rl, -1, -1);
            errno = saved;
            goto fail;
        }
    return nk_spawn(run, names, relay_role, &rl, parent_close);
fail:
    fprintf(stderr, "nkfloor: %s: socket setup: %s\n", run->pattern, strerror(errno));
    return -1;
}
