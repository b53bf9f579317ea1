// Conformance with profiles as tools write them (issue 19 §5): config-linux.md
// "Seccomp" with the deny-by-default allowlist that the OCI runtime-tools
// config generator (and docker, and older Kubernetes RuntimeDefault profiles)
// wrote before 2020 (test/lib/seccomp-profiles.ts). A runtime that loads the
// filter while it still has work of its own to do, or that leaves today's
// libc facing EPERM for syscalls the profile predates (faccessat2, clone3,
// close_range), fails these where runc and crun pass.
//
// Driven only through the runc-compatible CLI; only exit codes and what the
// container's process writes to /out are checked, never wording.
import { describe, expect, it } from 'vitest';
import { ENOSYS, EPERM, profile2018 } from '../test/lib/seccomp-profiles.ts';
import { isRoot, specContext, uid } from './lib/probe.ts';

const ctx = specContext();
const { bundleWith, outDir, run, create, start, del, waitStopped } = ctx;

// What the program does: looks its executables up in PATH (faccessat2 in
// today's glibc), forks (clone3), and reports its seccomp mode.
const SCRIPT = 'ls /bin/true > /dev/null && true && grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status > /out/status; echo done > /out/done';

describe.skipIf(!isRoot)('config-linux.md Seccomp with an allowlist profile as tools write it', () => {
  for (const nnp of [false, true])
    for (const errno of [EPERM, ENOSYS]) {
      const what = `noNewPrivileges ${nnp}, default errno ${errno === EPERM ? 'EPERM' : 'ENOSYS'}`;
      it(`config-linux.md Seccomp: run, ${what}: the program runs under a 2018-era allowlist (defaultAction SCMP_ACT_ERRNO) as the OCI runtime-tools generator writes by default [definition]`, () => {
        const out = outDir();
        const r = run(bundleWith(out, ['sh', '-c', SCRIPT], (c) => {
          c.process.noNewPrivileges = nnp;
          c.linux.seccomp = profile2018(errno);
        }));
        expect(r.code, r.stderr).toBe(0);
        expect(out.read('done')).toBe('done\n');
        expect(out.read('status')).toMatch(/NoNewPrivs:\s*\d\nSeccomp:\s*2\n/);
      });
    }

  for (const nnp of [false, true])
    it(`config-linux.md Seccomp: create and start, noNewPrivileges ${nnp}: the program runs under a 2018-era allowlist as the OCI runtime-tools generator writes by default [definition]`, async () => {
      const out = outDir();
      const id = uid('spec');
      const b = bundleWith(out, ['sh', '-c', SCRIPT], (c) => {
        c.process.noNewPrivileges = nnp;
        c.linux.seccomp = profile2018(EPERM);
      });
      const c = create(id, b);
      expect(c.code, c.stderr).toBe(0);
      const s = start(id);
      expect(s.code, s.stderr).toBe(0);
      await waitStopped(id);
      del(id);
      expect(out.read('done')).toBe('done\n');
      expect(out.read('status')).toMatch(/Seccomp:\s*2\n/);
    });
});
