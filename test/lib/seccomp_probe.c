/*
 * seccomp_probe: a program that makes exactly the syscalls it is told to and
 * nothing else, so that a seccomp profile can be sized to "tsrunc's list plus
 * this program's needs" (execve, write, exit_group). Built by
 * test/seccomp.test.ts with `cc -static -nostdlib` from addon/freestanding.h.
 *
 *   seccomp_probe             prints "ok"
 *   seccomp_probe NR...       calls syscall NR(-1, 0, 0, 0) for each and
 *                             prints "NR=RESULT" (RESULT: -errno on failure)
 */
#include "freestanding.h"

static void out(const char *s) { sys3(__NR_write, 1, (long)s, slen(s)); }

static void num(long v) {
  char b[24];
  int i = 23;
  unsigned long u = (unsigned long)(v < 0 ? -v : v);
  b[i] = 0;
  do {
    b[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) b[--i] = '-';
  out(b + i);
}

void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  if (argc < 2) out("ok\n");
  for (long i = 1; i < argc; i++) {
    long nr = 0;
    for (const char *c = argv[i]; *c; c++) nr = nr * 10 + (*c - '0');
    long r = sys4(nr, -1, 0, 0, 0);
    out(argv[i]);
    out("=");
    num(r);
    out("\n");
  }
  sys3(__NR_exit_group, 0, 0, 0);
  for (;;) {
  }
}
