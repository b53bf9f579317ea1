/*
 * freestanding.h: what tsrunc's two libc-free programs (init/init.c,
 * launch/launch.c) share: a raw syscall, and an entry point that hands
 * start_c() the initial stack (argc, argv..., NULL, envp..., NULL).
 * No libc means no dynamic loader and no libc start-up: such a program
 * is exec'd and running in a few tens of microseconds.
 */
#ifndef TSRUNC_FREESTANDING_H
#define TSRUNC_FREESTANDING_H
#include <asm/unistd.h>
#include <fcntl.h>

#if defined(__x86_64__)
static long sys4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call start_c\n hlt\n");
#elif defined(__aarch64__)
static long sys4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x0, sp\n bl start_c\n brk #0\n");
#else
#error "tsrunc: add the syscall stub for this architecture"
#endif

#define sys3(n, a, b, c) sys4(n, a, b, c, 0)

static unsigned slen(const char *s) {
  unsigned n = 0;
  while (s[n]) n++;
  return n;
}

#endif
