// dist/tsrunc without glibc's stub libraries (scripts/elf-needed.mjs): the
// DT_NEEDED entries of libpthread.so.0 and libdl.so.2 taken out where this
// host's libc.so.6 holds what they did (glibc 2.34 and later), checked by
// ld.so binding every symbol at once before the build keeps the result.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GLIBC_STUBS, dropNeeded, verifyLinks } from '../scripts/elf-needed.mjs';
import { repo } from './lib/harness.ts';

const work = mkdtempSync(join(tmpdir(), 'tsrunc-elf-needed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The libraries ld.so loads for `path`, by name (ldd's first column). */
function loaded(path: string): string[] {
  const r = spawnSync(path, [], { encoding: 'utf8', env: { LD_TRACE_LOADED_OBJECTS: '1' } });
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

// A program that uses what the stubs held before glibc 2.34 (a thread, dlopen)
// and libm, linked so that it names both stubs whatever the libc
// (--no-as-needed, and the files by name).
const program = join(work, 'uses-stubs');
const source = join(work, 'uses-stubs.c');
writeFileSync(
  source,
  `#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static void *echo(void *arg) { return arg; }
int main(int argc, char **argv) {
  pthread_t t; void *back;
  if (pthread_create(&t, 0, echo, argv) || pthread_join(t, &back) || back != argv) return 2;
  if (!dlopen(0, RTLD_NOW)) return 3;
  printf("%.0f\\n", cos(atof(argc > 1 ? argv[1] : "0")));
  return 0;
}
`,
);
const compiled = spawnSync('cc', ['-O1', '-o', program, source, '-Wl,--no-as-needed', '-l:libpthread.so.0', '-l:libdl.so.2', '-lm'], { encoding: 'utf8' });
const cannot = compiled.error ? `no C compiler (${compiled.error.message})` : compiled.status !== 0 ? `cc failed: ${compiled.stderr.trim().split('\n')[0]}` : '';

describe('elf-needed: glibc stub libraries out of an executable', () => {
  it('a program without them still makes threads and dlopens, where libc.so.6 holds them; ld.so names what is missing where it does not', (ctx) => {
    if (cannot) return ctx.skip(cannot);
    expect(loaded(program)).toEqual(expect.arrayContaining(GLIBC_STUBS));
    const lean = dropNeeded(readFileSync(program));
    expect(lean.dropped).toEqual(GLIBC_STUBS);
    const out = join(work, 'lean');
    writeFileSync(out, lean.elf!, { mode: 0o755 });
    const why = verifyLinks(out);
    if (why !== null) {
      // glibc before 2.34: pthread_create or dlopen is only in the stubs (then not stubs).
      expect(why).toMatch(/undefined symbol: (pthread_|dl)/);
      return;
    }
    for (const stub of GLIBC_STUBS) expect(loaded(out)).not.toContain(stub);
    const r = spawnSync(out, ['0'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('1\n');
  });

  it('verifyLinks refuses an executable without a library it binds symbols from (libm: cos)', (ctx) => {
    if (cannot) return ctx.skip(cannot);
    const out = join(work, 'no-libm');
    writeFileSync(out, dropNeeded(readFileSync(program), ['libm.so.6']).elf!, { mode: 0o755 });
    expect(verifyLinks(out)).toMatch(/undefined symbol: cos/);
    expect(verifyLinks(program)).toBeNull();
  });

  it('an executable that names none of them is left alone', (ctx) => {
    if (cannot) return ctx.skip(cannot);
    expect(dropNeeded(readFileSync(program), ['libtsrunc-none.so.1']).why).toMatch(/needs none of/);
  });

  it("dist/tsrunc names neither stub on a glibc 2.34 or later, and both on an older one", (ctx) => {
    const dist = join(repo, 'dist/tsrunc');
    const bunBuilt = existsSync(dist) && /^bun: /m.test(spawnSync(dist, ['--version'], { encoding: 'utf8' }).stdout ?? '');
    if (!bunBuilt) return ctx.skip('dist/tsrunc is the Node launcher here (TSRUNC_ENGINE=node, or no working Bun)');
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
    if (!glibc) return ctx.skip('the C library here is not glibc');
    const [major, minor] = glibc.split('.').map(Number);
    const libs = loaded(dist);
    for (const stub of GLIBC_STUBS) {
      if (major > 2 || (major === 2 && minor >= 34)) expect(libs).not.toContain(stub);
      else expect(libs).toContain(stub);
    }
  });
});
