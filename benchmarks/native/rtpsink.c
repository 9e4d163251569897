/*
 * rtpsink: receives and discards UDP on a range of ports, from one thread, the cheapest a
 * receiver can be: an epoll loop that drains each ready socket with recvmmsg(2). It is the
 * baseline a recorder's cost per packet is compared with: what the kernel alone charges to
 * deliver the same load to user space.
 *
 *   rtpsink --port FIRST --count N [--duration SECONDS]
 *
 * Binds 127.0.0.1:FIRST … FIRST+N-1 (exits 1 when one is taken). Runs until --duration has passed
 * or SIGTERM/SIGINT, then prints one line of key=value pairs to stdout: sockets, packets and
 * bytes received, wall and CPU seconds, and CPU microseconds per packet.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define DATAGRAM 2048

static volatile sig_atomic_t stopping;

static void stop(int signal) {
  (void)signal;
  stopping = 1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
  int first = 0, count = 0;
  double duration = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) first = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--count")) count = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
    else first = -1;
  }
  if (first <= 0 || count <= 0 || first + count > 65536 || argc % 2 == 0) {
    fprintf(stderr, "usage: rtpsink --port FIRST --count N [--duration SECONDS]\n");
    return 2;
  }
  struct sigaction on_stop = {.sa_handler = stop};
  sigaction(SIGTERM, &on_stop, NULL);
  sigaction(SIGINT, &on_stop, NULL);

  int epoll = epoll_create1(0);
  for (int i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(first + i)};
    inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
      fprintf(stderr, "rtpsink: cannot bind 127.0.0.1:%d: %s\n", first + i, strerror(errno));
      return 1;
    }
    struct epoll_event ready = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ready);
  }

  static char buffers[BATCH][DATAGRAM];
  struct mmsghdr messages[BATCH];
  struct iovec iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){.iov_base = buffers[i], .iov_len = DATAGRAM};
    messages[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
  }
  struct epoll_event events[256];
  long long packets = 0, bytes = 0;
  double start = now_s(), cpu_start = cpu_seconds();
  while (!stopping && (duration <= 0 || now_s() - start < duration)) {
    int n = epoll_wait(epoll, events, 256, 100);
    for (int e = 0; e < n; e++) {
      int r;
      while ((r = recvmmsg(events[e].data.fd, messages, BATCH, MSG_DONTWAIT, NULL)) > 0) {
        packets += r;
        for (int i = 0; i < r; i++) bytes += messages[i].msg_len;
        if (r < BATCH) break;
      }
    }
  }
  double cpu = cpu_seconds() - cpu_start;
  printf("sockets=%d packets=%lld bytes=%lld wall_s=%.3f cpu_s=%.3f cpu_us_per_packet=%.3f\n",
         count, packets, bytes, now_s() - start, cpu, packets > 0 ? cpu * 1e6 / packets : 0.0);
  return 0;
}
