// config-linux.md "Seccomp": the filter compiled with libseccomp in tsrunc,
// loaded by the child (noNewPrivileges false) or by tsrunc-init (true), the
// same for exec'd processes, and SCMP_ACT_NOTIFY's fd sent to listenerPath.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, isRoot, makeBundle, rt, state, stateRoot, uid, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));
const hasPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0;

const SIGSYS_STATUS = 128 + 31;
const EPERM_TEXT = 'Operation not permitted';

function bundle(args: string[], seccomp: unknown, noNewPrivileges = true, mutate?: (c: any) => void): string {
  return makeBundle(args, (c) => {
    c.process.noNewPrivileges = noNewPrivileges;
    c.linux.seccomp = seccomp;
    mutate?.(c);
  });
}

/** `run` in the foreground: the container's exit status and output. */
function run(args: string[], seccomp: unknown, noNewPrivileges = true, extra: string[] = []) {
  return rt(root, [...extra, 'run', '-b', bundle(args, seccomp, noNewPrivileges), uid()]);
}

const allowBut = (names: string[], action: string, more: Record<string, unknown> = {}) => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names, action, ...more }],
});

const MKDIR = ['mkdir', 'mkdirat'];

// What busybox needs to start, print and make a directory (x86_64 and arm64 names).
const BUSYBOX_SYSCALLS = [
  'execve', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'mmap', 'munmap',
  'mprotect', 'getpid', 'getppid', 'getuid', 'geteuid', 'getgid', 'getegid', 'write', 'writev', 'read',
  'exit_group', 'exit', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'uname', 'ioctl', 'fstat', 'newfstatat',
  'stat', 'lstat', 'openat', 'close', 'fcntl', 'getcwd', 'lseek', 'umask', 'getrandom',
];

describe.skipIf(!isRoot)('seccomp', () => {
  it('SCMP_ACT_ERRNO: the syscall fails with errnoRet, or EPERM without one', () => {
    const r = run(['mkdir', '/tmp/x'], allowBut(MKDIR, 'SCMP_ACT_ERRNO', { errnoRet: 28 }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("can't create directory '/tmp/x': No space left on device");
    const e = run(['mkdir', '/tmp/x'], allowBut(MKDIR, 'SCMP_ACT_ERRNO'));
    expect(e.stderr).toContain(EPERM_TEXT);
    // Everything else still works.
    expect(run(['sh', '-c', 'echo fine'], allowBut(MKDIR, 'SCMP_ACT_ERRNO'))).toMatchObject({ code: 0, stdout: 'fine\n' });
  });

  it('defaultAction SCMP_ACT_ERRNO with defaultErrnoRet and an allow-list', () => {
    const seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 13,
      syscalls: [{ names: BUSYBOX_SYSCALLS, action: 'SCMP_ACT_ALLOW' }],
    };
    expect(run(['echo', 'allowed'], seccomp)).toMatchObject({ code: 0, stdout: 'allowed\n' });
    const r = run(['mkdir', '/tmp/y'], seccomp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("can't create directory '/tmp/y': Permission denied");
  });

  it('SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL and SCMP_ACT_TRAP end the process with SIGSYS', () => {
    for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP']) {
      // (busybox sh itself calls uname at startup: the programs are run directly.)
      const r = run(['uname', '-m'], allowBut(['uname'], action));
      expect({ action, code: r.code, stdout: r.stdout }).toEqual({ action, code: SIGSYS_STATUS, stdout: '' });
      expect(run(['echo', 'ok'], allowBut(['uname'], action))).toMatchObject({ code: 0, stdout: 'ok\n' });
    }
  });

  it('args: a rule that holds only for some argument values (personality(PER_LINUX32))', () => {
    const cmd = ['sh', '-c', 'linux32 true; echo l32=$?; linux64 true; echo l64=$?'];
    const one = run(cmd, allowBut(['personality'], 'SCMP_ACT_ERRNO', { args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }));
    expect(one.stdout).toBe('l32=1\nl64=0\n');
    expect(one.stderr).toContain(`personality(0x8): ${EPERM_TEXT}`);
    // MASKED_EQ: value is the mask, valueTwo what the masked argument must equal.
    const masked = run(cmd, allowBut(['personality'], 'SCMP_ACT_ERRNO', { args: [{ index: 0, value: 0xff, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }));
    expect(masked.stdout).toBe('l32=0\nl64=1\n');
    // Two conditions on one argument are alternatives (as runc makes them), not both required.
    const either = run(cmd, allowBut(['personality'], 'SCMP_ACT_ERRNO', {
      args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }, { index: 0, value: 0, op: 'SCMP_CMP_EQ' }],
    }));
    expect(either.stdout).toBe('l32=1\nl64=1\n');
  });

  it('SCMP_ACT_LOG and SCMP_ACT_ALLOW let the syscall through; flags are accepted; unknown names are skipped', () => {
    const seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
      syscalls: [
        { names: ['uname'], action: 'SCMP_ACT_LOG' },
        { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
        { names: ['no_such_syscall', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 },
      ],
    };
    const r = run(['sh', '-c', 'uname -s; grep -E "^Seccomp:" /proc/self/status; mkdir /tmp/z'], seccomp, true, ['--debug']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Linux\nSeccomp:\t2\n');
    expect(r.stderr).toContain('No space left on device');
    expect(r.stderr).toContain('unknown seccomp syscall \\"no_such_syscall\\" ignored');
  });

  it('noNewPrivileges false: loaded while tsrunc still may (the container has no CAP_SYS_ADMIN)', () => {
    const cmd = ['sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp|CapEff):" /proc/self/status; mkdir /tmp/x'];
    const off = run(cmd, allowBut(MKDIR, 'SCMP_ACT_ERRNO', { errnoRet: 28 }), false);
    expect(off.code).toBe(1);
    expect(off.stdout).toMatch(/NoNewPrivs:\t0\nSeccomp:\t2\n/);
    const capEff = BigInt('0x' + /CapEff:\t([0-9a-f]+)/.exec(off.stdout)![1]);
    expect(capEff & (1n << 21n)).toBe(0n); // no CAP_SYS_ADMIN
    expect(off.stderr).toContain('No space left on device');
    const on = run(cmd, allowBut(MKDIR, 'SCMP_ACT_ERRNO', { errnoRet: 28 }), true);
    expect(on.stdout).toMatch(/NoNewPrivs:\t1\nSeccomp:\t2\n/);
    expect(on.stderr).toContain('No space left on device');
  });

  it('startContainer hooks run before tsrunc-init loads the filter (noNewPrivileges), or under it (not)', () => {
    // busybox sh calls uname at startup: under this filter it dies of SIGSYS.
    const b = (nnp: boolean) =>
      bundle(['echo', 'user'], allowBut(['uname'], 'SCMP_ACT_KILL_PROCESS'), nnp, (c) => {
        c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null'] }] };
      });
    expect(rt(root, ['run', '-b', b(true), uid()])).toMatchObject({ code: 0, stdout: 'user\n' });
    const r = rt(root, ['run', '-b', b(false), uid()]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('startContainer hook #0: killed by signal 31');
  });

  it("create/start, then exec: exec'd processes get the container's filter, with or without no_new_privs", async () => {
    const id = uid();
    const b = bundle(['sleep', '30'], allowBut(MKDIR, 'SCMP_ACT_ERRNO', { errnoRet: 28 }));
    expect(rt(root, ['create', '-b', b, id])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['start', id])).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(`/proc/${state(root, id).pid}/status`, 'utf8')).toMatch(/Seccomp:\t2/);
    const e = rt(root, ['exec', id, 'mkdir', '/tmp/e']);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('No space left on device');
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-seccomp-'));
    const proc = join(dir, 'process.json');
    writeFileSync(proc, JSON.stringify({ cwd: '/', args: ['sh', '-c', 'grep NoNewPrivs /proc/self/status; mkdir /tmp/e'], noNewPrivileges: false }));
    const p = rt(root, ['exec', '--process', proc, id]);
    expect(p.code).toBe(1);
    expect(p.stdout).toBe('NoNewPrivs:\t0\n');
    expect(p.stderr).toContain('No space left on device');
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
  });

  it('configs a filter cannot honour are refused before anything is created', () => {
    const cases: Array<[unknown, string]> = [
      [allowBut(['mkdir'], 'SCMP_ACT_ALLOW', { errnoRet: 3 }), 'linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW takes no errno'],
      [{ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 3 }, 'linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL takes no errno'],
      [allowBut(['mkdir'], 'SCMP_ACT_ERRNO', { errnoRet: 70000 }), 'linux.seccomp.syscalls[0].errnoRet: 70000 does not fit'],
      [allowBut(['mkdir'], 'SCMP_ACT_NOTIFY'), 'SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath'],
      [{ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, 'SCMP_ACT_NOTIFY cannot be the default action'],
      [{ ...allowBut(['sendmsg'], 'SCMP_ACT_NOTIFY'), listenerPath: '/x' }, 'SCMP_ACT_NOTIFY cannot be used for sendmsg'],
      [allowBut(['mkdir'], 'SCMP_ACT_ERRNO', { args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }), 'args[0].index: 6'],
      [allowBut([''], 'SCMP_ACT_ERRNO'), 'names[0]: empty string is not a valid syscall'],
      // The spec: "If sending to this socket fails, the runtime MUST generate an error."
      [{ ...allowBut(['mkdir'], 'SCMP_ACT_NOTIFY'), listenerPath: '/nonexistent/listener.sock' }, 'connect to seccomp listenerPath /nonexistent/listener.sock'],
    ];
    for (const [seccomp, message] of cases) {
      const id = uid();
      const r = rt(root, ['create', '-b', bundle(['true'], seccomp), id]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining(message) });
      expect(rt(root, ['list', '-q']).stdout).not.toContain(id);
    }
  });

  it('features lists what libseccomp and the kernel support', () => {
    const f = JSON.parse(rt(root, ['features']).stdout).linux.seccomp;
    expect(f.enabled).toBe(true);
    expect(f.actions).toEqual(expect.arrayContaining(['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY']));
    expect(f.operators).toHaveLength(7);
    expect(f.archs).toEqual(expect.arrayContaining(['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64']));
    expect(f.knownFlags).toContain('SECCOMP_FILTER_FLAG_SPEC_ALLOW');
    expect(f.supportedFlags).toEqual(expect.arrayContaining(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']));
  });
});

// A seccomp agent: for each answer, accepts one connection on listenerPath,
// receives the notify fd and the container process state, then answers one
// notification with that errno (or, with 0, closes the fd at once, so a
// notified syscall fails with ENOSYS).
const AGENT = `
import socket, sys, os, json, struct, fcntl, signal
path, out, answers = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3].split(',')]
signal.alarm(20)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
print('ready', flush=True)
results = []
for answer in answers:
    conn, _ = srv.accept()
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
    while True:
        more = conn.recv(1 << 20)
        if not more:
            break
        data += more
    conn.close()
    fd = fds[0]
    got = {'fds': len(fds), 'link': os.readlink('/proc/self/fd/%d' % fd), 'msg': json.loads(data)}
    if answer:
        buf = bytearray(80)  # struct seccomp_notif, zeroed
        fcntl.ioctl(fd, 0xC0502100, buf, True)  # SECCOMP_IOCTL_NOTIF_RECV
        nid, pid, _, nr = struct.unpack_from('=QIIi', buf)
        # struct seccomp_notif_resp {id, val, error, flags}
        fcntl.ioctl(fd, 0xC0182101, struct.pack('=QqiI', nid, 0, -answer, 0))  # SECCOMP_IOCTL_NOTIF_SEND
        got['nr'] = nr
    os.close(fd)
    results.append(got)
with open(out + '.tmp', 'w') as f:
    json.dump(results, f)
os.rename(out + '.tmp', out)
`;

async function agent(...answers: number[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-agent-'));
  const script = join(dir, 'agent.py');
  writeFileSync(script, AGENT);
  const sock = join(dir, 'agent.sock');
  const out = join(dir, 'got.json');
  const child = spawn('python3', [script, sock, out, answers.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  child.stdout.on('data', (d) => (said += d));
  await until(() => said.includes('ready'), 5000, 'agent');
  return {
    sock,
    /** what the agent received, one entry per connection */
    async got(): Promise<any[]> {
      await until(() => existsSync(out), 5000, 'agent result');
      return JSON.parse(readFileSync(out, 'utf8'));
    },
  };
}

const notifyMkdir = (listenerPath: string, more: Record<string, unknown> = {}) => ({
  ...allowBut(MKDIR, 'SCMP_ACT_NOTIFY'),
  listenerPath,
  ...more,
});

describe.skipIf(!isRoot || !hasPython)('seccomp SCMP_ACT_NOTIFY', () => {
  it('the listener gets the notify fd and the container process state, and answers the syscall', async () => {
    const a = await agent(122); // EDQUOT
    const id = uid();
    const seccomp = notifyMkdir(a.sock, { listenerMetadata: 'agent-meta', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] });
    const b = bundle(['mkdir', '/tmp/n'], seccomp, true, (c) => (c.annotations = { 'org.example/k': 'v' }));
    const r = rt(root, ['run', '-b', b, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("can't create directory '/tmp/n': Disk quota exceeded");
    const [got] = await a.got();
    expect(got.fds).toBe(1);
    expect(got.link).toBe('anon_inode:seccomp notify');
    expect(got.msg).toEqual({
      ociVersion: expect.any(String),
      fds: ['seccompFd'],
      pid: expect.any(Number),
      metadata: 'agent-meta',
      state: { ociVersion: expect.any(String), id, status: 'creating', pid: got.msg.pid, bundle: b, annotations: { 'org.example/k': 'v' } },
    });
  });

  it('noNewPrivileges false: the child sends it; a listener that closes the fd leaves ENOSYS', async () => {
    const a = await agent(0);
    const r = run(['sh', '-c', 'sleep 0.2; mkdir /tmp/n'], notifyMkdir(a.sock), false);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Function not implemented');
    expect((await a.got())[0].link).toBe('anon_inode:seccomp notify');
  });

  it("exec: the exec'd process's own notify fd, with the running container's state", async () => {
    const a = await agent(0, 122); // create's fd: closed at once; exec's: answered
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', bundle(['sleep', '30'], notifyMkdir(a.sock)), id])).toMatchObject({ code: 0, stderr: '' });
    const initPid = state(root, id).pid;
    const e = rt(root, ['exec', id, 'mkdir', '/tmp/e']);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('Disk quota exceeded');
    const [create, exec] = await a.got();
    expect(create.msg).toMatchObject({ pid: initPid, state: { id, status: 'creating', pid: initPid } });
    expect(exec.link).toBe('anon_inode:seccomp notify');
    expect(exec.msg).toMatchObject({ fds: ['seccompFd'], pid: expect.any(Number), state: { id, status: 'running', pid: initPid } });
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
  });
});
