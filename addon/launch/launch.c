/*
 * tsrunc-launch: the interpreter on dist/tsrunc's #! line. It starts Node
 * with the flags tsrunc's start-up wants, which a #! line cannot carry
 * itself (Linux hands the interpreter a single argument):
 *
 *   #!/abs/build/Release/tsrunc-launch /abs/path/to/node
 *
 * makes the kernel run `tsrunc-launch /abs/path/to/node dist/tsrunc ARGS...`,
 * and this execs `/abs/path/to/node FLAGS dist/tsrunc ARGS...`, with the
 * environment as it is. `#!/usr/bin/env -S node FLAGS` does the same through
 * a dynamically linked program, ~1 ms more on every command; this one is
 * freestanding (see ../freestanding.h).
 *
 * The flags:
 * --no-rehash-snapshot: V8 keeps the string-hash seed its snapshot was built
 *   with, instead of drawing a new one and rehashing every table in Node's
 *   snapshot; since Node 24.15 drawing one also searches for the primes of the
 *   rapidhash secret. Together ~5.5 ms of Node's ~26 ms start on this host.
 *   A random seed protects against hash flooding by whoever supplies the
 *   strings; tsrunc's strings are its caller's (config.json, the state it
 *   wrote itself, its argv), in a process that lives for one command.
 * --min-semi-space-size=8 (MB): `run` allocates ~2.2 MB of young objects
 *   (Node's own start ~0.6 MB, zod's schemas and parse ~0.9 MB), nearly all
 *   of which live to the end. Node's default (1 MB) makes two scavenges of
 *   ~1 ms each copy them; at 2 MB, V8 still posts a scavenge task at 80% full
 *   (~1.2 ms, in about half the runs). 8 leaves room for large configs (a
 *   full seccomp profile); the pages are touched only as they are used.
 * --jitless: V8 runs bytecode only. A tsrunc process runs one command, whose
 *   code (from the code cache, see src/cli/boot.ts) is mostly run once:
 *   Sparkplug compiles hot functions in batches on the main thread, and
 *   posting Maglev's background jobs (pthread_cond_signal) now and then
 *   blocks the main thread ~1 ms on this 2-CPU host. Together ~1.3 ms of
 *   `run`. Without a JIT there is no WebAssembly, which tsrunc does not use.
 * --v8-pool-size=1: with nothing to compile in the background, one V8 worker
 *   thread (for GC) instead of four to start.
 */
#include "../freestanding.h"

static const char *const kFlags[] = {"--no-rehash-snapshot", "--min-semi-space-size=8", "--jitless", "--v8-pool-size=1"};
#define NFLAGS (sizeof kFlags / sizeof kFlags[0])

static void say(const char *s) { sys3(__NR_write, 2, (long)s, slen(s)); }

void start_c(long *sp) {
  long argc = sp[0];
  const char **argv = (const char **)(sp + 1);
  const char **envp = argv + argc + 1;
  if (argc < 3) {
    say("tsrunc-launch: the interpreter of dist/tsrunc's #! line: tsrunc-launch NODE SCRIPT [ARGS...]\n");
    sys3(__NR_exit_group, 2, 0, 0);
  }
  const char *nargv[argc + NFLAGS + 1];
  long n = 0;
  nargv[n++] = argv[1];
  for (unsigned i = 0; i < NFLAGS; i++) nargv[n++] = kFlags[i];
  for (long i = 2; i < argc; i++) nargv[n++] = argv[i];
  nargv[n] = 0;
  long r = sys3(__NR_execve, (long)argv[1], (long)nargv, (long)envp);
  say("tsrunc-launch: cannot exec ");
  say(argv[1]);
  say(r == -2 ? ": no such file\n" : ": exec failed\n");
  sys3(__NR_exit_group, 127, 0, 0);
}
