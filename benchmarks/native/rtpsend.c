/*
 * rtpsend: G.711 RTP for many streams at 20 ms pacing, from one thread, as cheaply as the kernel
 * allows, so that what a benchmark measures is the receiver and not the sender.
 *
 *   rtpsend --plan FILE --duration SECONDS [--host 127.0.0.1] [--batch-us 200] [--threads 1]
 *           [--progress 5]
 *
 * FILE has one line per stream: "<source port> <destination port>". Each stream's packets leave
 * from its own source port (the one its call declared), through one raw socket (IPPROTO_RAW,
 * which needs CAP_NET_RAW): the IP and UDP headers are written here, and sendmmsg(2) sends up to
 * 1,024 datagrams per system call. Stream i of S is due at start + i * 20 ms / S + k * 20 ms for
 * slot k, so the load is spread evenly over each 20 ms. The sender sleeps until the next packet
 * is due plus --batch-us, then sends everything due; a packet's lateness is the time from when it
 * was due to the return of the sendmmsg that sent it. Every slot is sent, however late.
 * --threads splits the streams among that many threads, each with its own socket (thread t sends
 * streams t, t + threads, …): on loopback the sender also pays for the kernel's receive path, so
 * one thread tops out at about 200,000 packets/s on a small machine.
 *
 * While it runs it prints a progress line to stderr every --progress seconds. At the end it
 * prints one line of key=value pairs to stdout: streams, packets sent, send errors, lateness
 * p50/p99/p99.9/max in microseconds, wall and CPU seconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET_NS 20000000LL
#define PAYLOAD 160
#define HEADERS (20 + 8 + 12)
#define DATAGRAM (HEADERS + PAYLOAD)
#define MAX_BATCH 1024
#define BUCKET_US 10
#define BUCKETS 200000 /* lateness up to 2 s in 10 µs buckets; the last one holds the rest */

struct stream {
  uint16_t src_port;
  uint16_t dst_port;
  uint16_t seq;
  uint32_t ts;
  uint8_t datagram[DATAGRAM];
};

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void usage(void) {
  fprintf(stderr, "usage: rtpsend --plan FILE --duration SECONDS [--host 127.0.0.1]"
                  " [--batch-us 200] [--progress 5]\n");
  exit(2);
}

static long long percentile_us(const uint32_t *histogram, long long count, double p) {
  long long rank = (long long)(p * (count - 1));
  long long seen = 0;
  for (int b = 0; b < BUCKETS; b++) {
    seen += histogram[b];
    if (seen > rank) return (long long)b * BUCKET_US;
  }
  return (long long)BUCKETS * BUCKET_US;
}

/* The stream's datagram, its headers and a payload that is never silence; seq and ts are set per
 * packet. RFC 768 lets an IPv4 UDP checksum be 0 (none); the kernel fills the IP checksum, length
 * and identification of an IPPROTO_RAW datagram. */
static void prepare(struct stream *s, int index, struct in_addr host) {
  uint8_t *d = s->datagram;
  memset(d, 0, DATAGRAM);
  d[0] = 0x45;                   /* IPv4, 20-byte header */
  d[1] = 0xb8;                   /* DSCP EF, as telephony marks media */
  d[6] = 0x40;                   /* don't fragment */
  d[8] = 64;                     /* TTL */
  d[9] = IPPROTO_UDP;
  memcpy(d + 12, &host, 4);
  memcpy(d + 16, &host, 4);
  uint16_t v = htons(s->src_port);
  memcpy(d + 20, &v, 2);
  v = htons(s->dst_port);
  memcpy(d + 22, &v, 2);
  v = htons(8 + 12 + PAYLOAD);
  memcpy(d + 24, &v, 2);
  uint8_t *rtp = d + 28;
  rtp[0] = 0x80;                 /* version 2 */
  rtp[1] = 0;                    /* PCMU */
  uint32_t ssrc = htonl(0x5ca1ab1eu ^ (uint32_t)index * 2654435761u);
  memcpy(rtp + 8, &ssrc, 4);
  for (int i = 0; i < PAYLOAD; i++) rtp[12 + i] = (uint8_t)(0x10 + (index * 7 + i * 13) % 0x60);
  s->seq = (uint16_t)(index * 31);
  s->ts = (uint32_t)index * 8000u;
}

static void stamp(struct stream *s) {
  uint8_t *rtp = s->datagram + 28;
  uint16_t seq = htons(s->seq++);
  uint32_t ts = htonl(s->ts);
  s->ts += PAYLOAD;
  memcpy(rtp + 2, &seq, 2);
  memcpy(rtp + 4, &ts, 4);
}

struct sender {
  struct stream *streams; /* all of them; this thread sends first, first + step, … */
  int count, first, step;
  long long start, slots, batch_ns, progress_ns;
  uint32_t *histogram;
  long long sent, errors;
};

static long long due_at(const struct sender *w, long long k, int stream) {
  return w->start + k * PACKET_NS + (long long)stream * PACKET_NS / w->count;
}

static void *send_streams(void *arg) {
  struct sender *w = arg;
  int mine = (w->count - w->first + w->step - 1) / w->step;
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    fprintf(stderr, "rtpsend: a raw socket (to send from each stream's own port) needs"
                    " CAP_NET_RAW: run as root or `setcap cap_net_raw+ep rtpsend` (%s)\n",
            strerror(errno));
    exit(1);
  }
  int buffer = 16 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  prctl(PR_SET_TIMERSLACK, 1000UL); /* wake within ~1 µs of the deadline asked for */

  /* IPPROTO_RAW takes the destination from each IP header; msg_name only satisfies the API. */
  struct sockaddr_in to = {.sin_family = AF_INET};
  memcpy(&to.sin_addr, w->streams[0].datagram + 16, 4);
  struct mmsghdr *messages = calloc(MAX_BATCH, sizeof *messages);
  struct iovec *iov = calloc(MAX_BATCH, sizeof *iov);
  long long *due_of = calloc(MAX_BATCH, sizeof *due_of);
  for (int i = 0; i < MAX_BATCH; i++) {
    messages[i].msg_hdr.msg_name = &to;
    messages[i].msg_hdr.msg_namelen = sizeof to;
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    iov[i].iov_len = DATAGRAM;
  }
  /* A batch never holds one stream twice: its datagram buffer is reused for the next slot. */
  int batch_max = mine < MAX_BATCH ? mine : MAX_BATCH;
  long long total = w->slots * mine, next = 0;
  long long next_progress = w->start + w->progress_ns, sent_at_progress = 0;

  while (next < total) {
    long long due = due_at(w, next / mine, w->first + (int)(next % mine) * w->step);
    long long now = now_ns();
    if (due > now) {
      long long wake = due + w->batch_ns;
      struct timespec t = {wake / 1000000000LL, wake % 1000000000LL};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
      now = now_ns();
    }
    int n = 0;
    while (n < batch_max && next < total) {
      int stream = w->first + (int)(next % mine) * w->step;
      long long d = due_at(w, next / mine, stream);
      if (d > now) break;
      stamp(&w->streams[stream]);
      iov[n].iov_base = w->streams[stream].datagram;
      due_of[n] = d;
      n++;
      next++;
    }
    int done = 0;
    while (done < n) {
      int r = sendmmsg(fd, messages + done, n - done, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        w->errors += n - done; /* ENOBUFS and the like: counted as not sent, never retried late */
        break;
      }
      done += r;
    }
    long long after = now_ns();
    for (int i = 0; i < done; i++) {
      long long late = (after - due_of[i]) / 1000 / BUCKET_US;
      w->histogram[late < BUCKETS ? late : BUCKETS - 1]++;
    }
    w->sent += done;
    if (w->first == 0 && w->progress_ns > 0 && after >= next_progress) {
      fprintf(stderr, "rtpsend: %.0f s, %lld packets sent by thread 1, %.0f/s\n",
              (after - w->start) / 1e9, w->sent,
              (w->sent - sent_at_progress) / ((double)w->progress_ns / 1e9));
      sent_at_progress = w->sent;
      next_progress += w->progress_ns;
    }
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  const char *plan = NULL;
  const char *host_text = "127.0.0.1";
  double duration = 0;
  long long batch_ns = 200000;
  double progress_every = 5;
  int threads = 1;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (!strcmp(argv[i], "--plan")) plan = argv[++i];
    else if (!strcmp(argv[i], "--duration")) duration = atof(argv[++i]);
    else if (!strcmp(argv[i], "--host")) host_text = argv[++i];
    else if (!strcmp(argv[i], "--batch-us")) batch_ns = atoll(argv[++i]) * 1000;
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--progress")) progress_every = atof(argv[++i]);
    else usage();
  }
  if (!plan || duration <= 0 || threads < 1 || threads > 64) usage();
  struct in_addr host;
  if (inet_pton(AF_INET, host_text, &host) != 1) {
    fprintf(stderr, "rtpsend: --host %s is not an IPv4 address\n", host_text);
    return 2;
  }

  FILE *f = fopen(plan, "r");
  if (!f) {
    fprintf(stderr, "rtpsend: cannot read the plan %s: %s\n", plan, strerror(errno));
    return 2;
  }
  int capacity = 1024, count = 0;
  struct stream *streams = malloc(sizeof(struct stream) * capacity);
  unsigned src, dst;
  while (fscanf(f, "%u %u", &src, &dst) == 2) {
    if (src == 0 || src > 65535 || dst == 0 || dst > 65535) {
      fprintf(stderr, "rtpsend: line %d of the plan: ports must be 1-65535\n", count + 1);
      return 2;
    }
    if (count == capacity) streams = realloc(streams, sizeof(struct stream) * (capacity *= 2));
    streams[count].src_port = (uint16_t)src;
    streams[count].dst_port = (uint16_t)dst;
    prepare(&streams[count], count, host);
    count++;
  }
  fclose(f);
  if (count == 0) {
    fprintf(stderr, "rtpsend: the plan %s names no stream\n", plan);
    return 2;
  }
  if (threads > count) threads = count;

  long long start = now_ns() + 50000000LL;
  struct sender *workers = calloc(threads, sizeof *workers);
  pthread_t *ids = calloc(threads, sizeof *ids);
  double cpu_start = cpu_seconds();
  for (int t = 0; t < threads; t++) {
    workers[t] = (struct sender){
        .streams = streams, .count = count, .first = t, .step = threads, .start = start,
        .slots = (long long)(duration * 1000000000.0 / PACKET_NS), .batch_ns = batch_ns,
        .progress_ns = (long long)(progress_every * 1e9),
        .histogram = calloc(BUCKETS, sizeof(uint32_t))};
    pthread_create(&ids[t], NULL, send_streams, &workers[t]);
  }
  long long sent = 0, errors = 0;
  uint32_t *histogram = calloc(BUCKETS, sizeof *histogram);
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    sent += workers[t].sent;
    errors += workers[t].errors;
    for (int b = 0; b < BUCKETS; b++) histogram[b] += workers[t].histogram[b];
  }
  double wall = (now_ns() - start) / 1e9;
  double cpu = cpu_seconds() - cpu_start;
  long long measured = sent > 0 ? sent : 1;
  printf("streams=%d threads=%d sent=%lld errors=%lld late_p50_us=%lld late_p99_us=%lld"
         " late_p999_us=%lld late_max_us=%lld wall_s=%.3f cpu_s=%.3f\n",
         count, threads, sent, errors, percentile_us(histogram, measured, 0.50),
         percentile_us(histogram, measured, 0.99), percentile_us(histogram, measured, 0.999),
         percentile_us(histogram, measured, 1.0), wall, cpu);
  return errors > 0 ? 3 : 0;
}
