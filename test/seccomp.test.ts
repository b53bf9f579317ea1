// config-linux.md "Seccomp": the filter compiled with libseccomp in tsrunc,
// loaded by the child (noNewPrivileges false) or by tsrunc-init (true), the
// same for exec'd processes, and SCMP_ACT_NOTIFY's fd sent to listenerPath.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, isRoot, makeBundle, repo, rootfs, rt, runtime, state, stateRoot, uid, until } from './lib/harness.ts';
import { ENOSYS, EPERM, profile2018 } from './lib/seccomp-profiles.ts';

const root = stateRoot();
afterAll(() => cleanup(root));
afterAll(() => rmSync(probeDir, { recursive: true, force: true }));
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

  it('args: values above 2^53 are compared exactly, by run and by exec (from the config create keeps); past 2^64-1 refused', async () => {
    // A mask of 2^63-1 keeps personality(8)'s bit, so linux32 is refused. As
    // a double it would be 2^63, whose mask keeps nothing of 8: allowed.
    const bigMask = (args: string[], value = '9223372036854775807') => {
      const b = bundle(args, allowBut(['personality'], 'SCMP_ACT_ERRNO', { args: [{ index: 0, value: 12345, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] }));
      const p = join(b, 'config.json');
      const text = readFileSync(p, 'utf8');
      expect(text).toContain('"value": 12345');
      writeFileSync(p, text.replace('"value": 12345', `"value": ${value}`));
      return b;
    };
    const cmd = ['sh', '-c', 'linux32 true; echo l32=$?; linux64 true; echo l64=$?'];
    expect(rt(root, ['run', '-b', bigMask(cmd), uid()])).toMatchObject({ code: 0, stdout: 'l32=1\nl64=0\n' });
    const id = uid();
    expect(rt(root, ['create', '-b', bigMask(['sleep', '60']), id])).toMatchObject({ code: 0 });
    expect(rt(root, ['start', id]).code).toBe(0);
    expect(rt(root, ['exec', id, ...cmd])).toMatchObject({ code: 0, stdout: 'l32=1\nl64=0\n' });
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    const over = rt(root, ['run', '-b', bigMask(['true'], '18446744073709551616'), uid()]);
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain('linux.seccomp.syscalls[0].args[0].value: must be an integer between 0 and 18446744073709551615');
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
      [{ ...allowBut(['sendmsg'], 'SCMP_ACT_NOTIFY'), listenerPath: '/x' }, 'SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall'],
      // runc's refusal and message: tsrunc-init writes the exec fifo under the filter.
      [{ ...allowBut(['write'], 'SCMP_ACT_NOTIFY'), listenerPath: '/x' }, 'SCMP_ACT_NOTIFY cannot be used for the write syscall'],
      [allowBut(['mkdir'], 'SCMP_ACT_ERRNO', { args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }), 'args[0].index: 6'],
      [allowBut([''], 'SCMP_ACT_ERRNO'), 'names[0]: empty string is not a valid syscall'],
      // The spec: "If sending to this socket fails, the runtime MUST generate an error."
      [{ ...allowBut(['mkdir'], 'SCMP_ACT_NOTIFY'), listenerPath: '/nonexistent/listener.sock' }, 'failed to connect with seccomp agent specified in the seccomp profile: connect to /nonexistent/listener.sock: No such file or directory'],
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
// notified syscall fails with ENOSYS; with -1, lets every notified syscall
// continue until the last process under the filter is gone).
const AGENT = `
import socket, sys, os, json, struct, fcntl, signal, select
path, out, answers = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3].split(',')]
signal.alarm(20)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
print('ready', flush=True)
results = []
for answer in answers:
    conn, _ = srv.accept()
    # One message, as agents read it (runc's example agent: one recvmsg);
    # more reads only while the JSON is incomplete, never waiting for EOF
    # (the sender's close may itself be a notified syscall).
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
    while True:
        try:
            json.loads(data)
            break
        except ValueError:
            more = conn.recv(1 << 20)
            if not more:
                break
            data += more
    conn.close()
    fd = fds[0]
    got = {'fds': len(fds), 'link': os.readlink('/proc/self/fd/%d' % fd), 'msg': json.loads(data)}
    if answer == -1:
        got['continued'] = []
        p = select.poll()
        p.register(fd, select.POLLIN)
        while True:
            ev = p.poll(10000)
            if not ev or ev[0][1] & select.POLLHUP:
                break
            buf = bytearray(80)
            try:
                fcntl.ioctl(fd, 0xC0502100, buf, True)
            except OSError:
                continue  # the syscall's process died meanwhile
            nid, pid, _, nr = struct.unpack_from('=QIIi', buf)
            got['continued'].append(nr)
            try:
                fcntl.ioctl(fd, 0xC0182101, struct.pack('=QqiI', nid, 0, 0, 1))  # SECCOMP_USER_NOTIF_FLAG_CONTINUE
            except OSError:
                pass
    elif answer:
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

// ---- Profiles as other tools write them (issue 19 §1): test/lib/seccomp-profiles.ts ----

// The freestanding probe (test/lib/seccomp_probe.c): needs execve, write and
// exit_group, nothing else, so that a profile can hold tsrunc to its list.
const PROBE_NEEDS = ['write', 'exit_group'];
const hasCC = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const probeDir = mkdtempSync(join(tmpdir(), 'tsrunc-seccomp-probe-'));
const probe = join(probeDir, 'probe');
const NO_PROBE = 'needs cc -static on x86_64 or aarch64 to build test/lib/seccomp_probe.c';
const probeBuilt =
  hasCC &&
  spawnSync('cc', ['-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-builtin', '-O1', `-I${join(repo, 'addon')}`,
    '-o', probe, join(repo, 'test/lib/seccomp_probe.c')], { stdio: 'inherit' }).status === 0;
const withProbe = (c: any) => c.mounts.push({ destination: '/probe', type: 'bind', source: probe, options: ['bind', 'ro'] });

/**
 * The syscalls a profile must allow for tsrunc to reach the user's program:
 * the list README.md ("Seccomp") states. Everything else tsrunc does happens
 * before the filter, or falls back when refused.
 */
const TSRUNC_NEEDS = {
  /** always: the user's program */
  always: ['execve'],
  /** with the exec fifo (create/start; run with startContainer hooks): its "0" */
  fifo: ['write'],
  /**
   * noNewPrivileges false: tsrunc-init runs under the filter: its settings
   * (read), the exec fifo (openat, or open; fstat: what opened is the fifo;
   * close, or fcntl: the fifo's O_PATH fd must not reach the user's program)
   */
  initUnderFilter: ['read', 'openat', 'fstat', 'close'],
  /** startContainer hooks under the filter (noNewPrivileges false): stdin and stdout set up with dup3 (or dup2) */
  hooks: ['clone', 'wait4', 'dup3'],
  /** SCMP_ACT_NOTIFY: the notify fd to the listener */
  notify: ['sendmsg'],
};

/**
 * create + start, waiting for the container to stop; what create, start and
 * the container wrote (the container inherits create's stdout and stderr,
 * which are files here, read once it has stopped).
 */
async function createStart(b: string, extra: string[] = []) {
  const id = uid('seccomp');
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-io-'));
  const out = openSync(join(dir, 'out'), 'w+');
  const err = openSync(join(dir, 'err'), 'w+');
  try {
    const c = spawnSync(runtime, ['--root', root, 'create', ...extra, '-b', b, id], { stdio: ['ignore', out, err], timeout: 30_000 });
    let code = c.status ?? -1;
    if (code === 0) {
      const s = rt(root, ['start', id]);
      code = s.code;
      writeSync(err, s.stderr);
      await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    }
    rt(root, ['delete', '--force', id]);
    return { code, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

describe.skipIf(!isRoot)('seccomp: allowlists as other tools write them', () => {
  for (const nnp of [true, false])
    for (const errno of [EPERM, ENOSYS]) {
      const what = `noNewPrivileges ${nnp}, default errno ${errno === EPERM ? 'EPERM' : 'ENOSYS'}`;
      it(`a 2018 allowlist: run, create+start with a startContainer hook, exec (${what})`, async () => {
        const sc = profile2018(errno);
        const cmd = ['sh', '-c', 'echo hi; ls /bin/true >/dev/null && grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'];
        const expected = `hi\nNoNewPrivs:\t${nnp ? 1 : 0}\nSeccomp:\t2\n`;
        expect(rt(root, ['run', '-b', bundle(cmd, sc, nnp), uid('seccomp')])).toMatchObject({ code: 0, stdout: expected, stderr: '' });
        const hooked = bundle(cmd, sc, nnp, (c) => (c.hooks = { startContainer: [{ path: '/bin/true', timeout: 5 }] }));
        expect(await createStart(hooked)).toMatchObject({ code: 0, stdout: expected, stderr: '' });
        const id = uid('seccomp');
        expect(rt(root, ['run', '-d', '-b', bundle(['sleep', '30'], sc, nnp), id])).toMatchObject({ code: 0, stderr: '' });
        expect(rt(root, ['exec', id, ...cmd])).toMatchObject({ code: 0, stdout: expected, stderr: '' });
        expect(rt(root, ['exec', '--user', '1000:1000', id, 'sh', '-c', 'echo $(id -u)'])).toMatchObject({ code: 0, stdout: '1000\n' });
        expect(rt(root, ['delete', '--force', id]).code).toBe(0);
      });
    }

  it('the -ENOSYS stub: numbers past the profile\'s last syscall, and clone3 when unnamed, answer ENOSYS', (t) => {
    t.skip(!probeBuilt, NO_PROBE);
    // x86_64 numbers (the probe takes numbers): mkdir 83, clone3 435, faccessat2 439, 1000: none.
    t.skip(process.arch !== 'x64', 'the syscall numbers here are x86_64\'s');
    const cmd = ['/probe', '83', '435', '439', '1000'];
    const run1 = (sc: unknown) => rt(root, ['run', '-b', bundle(cmd, sc, true, withProbe), uid('seccomp')]);
    // Default EPERM: named-and-not-allowed (mkdir, under the last one) stays EPERM; the rest is ENOSYS.
    expect(run1(profile2018(EPERM, { minus: ['mkdir'] })).stdout).toBe('83=-1\n435=-38\n439=-38\n1000=-38\n');
    // A profile that names faccessat2 (439) but not clone3: clone3 still ENOSYS, 439 allowed (EFAULT from the probe's arguments).
    const newer = profile2018(EPERM, { minus: ['mkdir'], extra: [{ names: ['faccessat2'], action: 'SCMP_ACT_ALLOW' }] });
    expect(run1(newer).stdout).toMatch(/^83=-1\n435=-38\n439=-\d+\n1000=-38\n$/);
    expect(run1(newer).stdout).not.toContain('439=-38');
    // ... and clone3 named as refused: the profile's answer, not ENOSYS.
    const named = profile2018(EPERM, { minus: ['mkdir'], extra: [{ names: ['faccessat2'], action: 'SCMP_ACT_ALLOW' }, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 }] });
    expect(run1(named).stdout).toMatch(/^83=-1\n435=-95\n/);
    // Default KILL: past the last syscall still ENOSYS (not SIGSYS); an allow-by-default profile has no stub.
    const kill = { ...profile2018(EPERM, { minus: ['mkdir'] }), defaultAction: 'SCMP_ACT_KILL_PROCESS' };
    const k = rt(root, ['run', '-b', bundle(['/probe', '1000'], kill, true, withProbe), uid('seccomp')]);
    expect(k).toMatchObject({ code: 0, stdout: '1000=-38\n' });
    const allow = run1(allowBut(['mkdir'], 'SCMP_ACT_ERRNO')).stdout;
    expect(allow).toMatch(/^83=-1\n435=-\d+\n439=-\d+\n1000=-38\n$/);
    expect(allow).not.toMatch(/435=-38|439=-38/);
  });

  it("tsrunc's own list (README) plus the program's needs is enough: run, create+start with a hook", async (t) => {
    t.skip(!probeBuilt, NO_PROBE);
    const all = [...TSRUNC_NEEDS.always, ...TSRUNC_NEEDS.fifo, ...TSRUNC_NEEDS.initUnderFilter, ...TSRUNC_NEEDS.hooks];
    for (const nnp of [true, false])
      for (const errno of [EPERM, ENOSYS]) {
        const need = nnp ? [...TSRUNC_NEEDS.always, ...TSRUNC_NEEDS.fifo] : all;
        const sc = profile2018(errno, { only: [...new Set([...need, ...PROBE_NEEDS])] });
        const tag = { nnp, errno };
        const r = rt(root, ['run', '-b', bundle(['/probe'], sc, nnp, withProbe), uid('seccomp')]);
        expect({ ...tag, ...r }).toMatchObject({ ...tag, code: 0, stdout: 'ok\n', stderr: '' });
        // A user other than root: its capabilities set before the filter, CAP_SYS_ADMIN gone at the exec.
        const user = bundle(['/probe'], sc, nnp, (c) => {
          withProbe(c);
          c.process.user = { uid: 1000, gid: 1000 };
        });
        expect({ ...tag, ...rt(root, ['run', '-b', user, uid('seccomp')]) }).toMatchObject({ ...tag, code: 0, stdout: 'ok\n', stderr: '' });
        // startContainer hooks: under the filter without noNewPrivileges; the probe is the hook.
        const b = bundle(['/probe'], sc, nnp, (c) => {
          withProbe(c);
          c.hooks = { startContainer: [{ path: '/probe', timeout: 5 }] };
        });
        // (A hook's stdout is tsrunc's stderr, as in runc.)
        expect({ ...tag, ...(await createStart(b)) }).toMatchObject({ ...tag, code: 0, stdout: 'ok\n', stderr: 'ok\n' });
      }
  }, 60_000);

  it('SCMP_ACT_NOTIFY under exactly the list: sendmsg added', async (t) => {
    t.skip(!probeBuilt, NO_PROBE);
    t.skip(!hasPython, 'needs python3 with socket.recv_fds (the seccomp agent)');
    const all = [...TSRUNC_NEEDS.always, ...TSRUNC_NEEDS.fifo, ...TSRUNC_NEEDS.initUnderFilter, ...TSRUNC_NEEDS.notify];
    for (const nnp of [true, false]) {
      const a = await agent(0, 0);
      const need = nnp ? [...TSRUNC_NEEDS.always, ...TSRUNC_NEEDS.fifo, ...TSRUNC_NEEDS.notify] : all;
      const sc = { ...profile2018(EPERM, { only: [...new Set([...need, ...PROBE_NEEDS])], extra: [{ names: MKDIR, action: 'SCMP_ACT_NOTIFY' }] }), listenerPath: a.sock };
      expect({ nnp, ...rt(root, ['run', '-b', bundle(['/probe'], sc, nnp, withProbe), uid('seccomp')]) }).toMatchObject({ nnp, code: 0, stdout: 'ok\n', stderr: '' });
      expect({ nnp, ...(await createStart(bundle(['/probe'], sc, nnp, withProbe))) }).toMatchObject({ nnp, code: 0, stdout: 'ok\n', stderr: '' });
      expect((await a.got()).map((g) => g.link)).toEqual(['anon_inode:seccomp notify', 'anon_inode:seccomp notify']);
    }
  });

  it('exec under exactly the list (the exec\'d process takes the container\'s profile)', (t) => {
    t.skip(!probeBuilt, NO_PROBE);
    for (const nnp of [true, false]) {
      const sc = profile2018(EPERM, { only: [...TSRUNC_NEEDS.always, ...TSRUNC_NEEDS.initUnderFilter, ...PROBE_NEEDS] });
      const id = uid('seccomp');
      // A created container takes exec (as runc's does): its init waits at
      // the exec fifo, before the filter when noNewPrivileges is true.
      expect({ nnp, ...rt(root, ['create', '-b', bundle(['/probe'], sc, nnp, withProbe), id]) }).toMatchObject({ nnp, code: 0 });
      expect({ nnp, ...rt(root, ['exec', id, '/probe']) }).toMatchObject({ nnp, code: 0, stdout: 'ok\n', stderr: '' });
      expect(rt(root, ['delete', '--force', id]).code).toBe(0);
    }
  });

  it('the same 2018 list minus each syscall tsrunc makes in or after the old loading point still works', async (t) => {
    t.skip(!probeBuilt, NO_PROBE);
    // Before this change tsrunc loaded the filter before setting the user and
    // ran all of this under it; now each is made before the filter, or has a
    // fallback (init.c), or is one tsrunc no longer makes.
    const after = ['setgroups', 'setresgid', 'setresuid', 'capset', 'prctl', 'umask', 'chdir', 'getcwd', 'newfstatat', 'faccessat',
      'prlimit64', 'fcntl', 'close', 'rt_sigaction', 'rt_sigprocmask', 'execveat', 'pread64', 'dup3', 'ppoll', 'munmap'];
    for (const name of after) {
      const sc = profile2018(EPERM, { minus: [name] });
      const b = bundle(['/probe'], sc, false, (c) => {
        withProbe(c);
        c.process.user = { uid: 1000, gid: 1000 };
        c.hooks = { startContainer: [{ path: '/probe', timeout: 5 }] };
      });
      expect({ name, ...(await createStart(b)) }).toMatchObject({ name, code: 0, stdout: 'ok\n', stderr: 'ok\n' });
    }
  }, 120_000);

  it('a terminal (run -t from a tty, create with --console-socket) under a 2018 allowlist', async (t) => {
    t.skip(!hasPython, 'needs python3 (test/lib/pty_tools.py)');
    const ptyTools = join(repo, 'test/lib/pty_tools.py');
    for (const nnp of [true, false]) {
      const b = bundle(['sh'], profile2018(EPERM), nnp, (c) => (c.process.terminal = true));
      const r = spawnSync('python3', [ptyTools, 'pty', join(repo, 'dist/tsrunc'), '--root', root, 'run', '-b', b, uid('seccomp'), '--keys',
        'sleep:0.5|echo tty-$((6*7))\\r|sleep:0.3|exit 5\\r'], { encoding: 'utf8', timeout: 30_000 });
      expect({ nnp, out: r.stdout, status: r.status }).toMatchObject({ nnp, out: expect.stringContaining('tty-42'), status: 5 });
      const dir = mkdtempSync(join(tmpdir(), 'tsrunc-console-'));
      const sock = join(dir, 'console.sock');
      const receiver = spawn('python3', [ptyTools, 'console', sock, 'echo console-$((6*7))\\nexit 3\\n']);
      let output = '';
      receiver.stdout.on('data', (d) => (output += d));
      await until(() => output.includes('ready'), 5000, 'receiver');
      const id = uid('seccomp');
      expect(rt(root, ['create', '--console-socket', sock, '-b', b, id])).toMatchObject({ code: 0, stderr: '' });
      expect(rt(root, ['start', id]).code).toBe(0);
      await new Promise((res) => receiver.on('exit', res));
      expect(output).toContain('console-42');
      await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
      expect(rt(root, ['delete', id]).code).toBe(0);
    }
  }, 60_000);
});

describe.skipIf(!isRoot || !hasPython)('seccomp SCMP_ACT_NOTIFY with tools\' profiles and hooks', () => {
  for (const nnp of [true, false]) {
    it(`a 2018 allowlist that notifies mkdir: run and create+start (noNewPrivileges ${nnp})`, async () => {
      const a = await agent(122, 122);
      const sc = { ...profile2018(EPERM, { minus: MKDIR, extra: [{ names: MKDIR, action: 'SCMP_ACT_NOTIFY' }] }), listenerPath: a.sock };
      const r = rt(root, ['run', '-b', bundle(['mkdir', '/tmp/n'], sc, nnp), uid('seccomp')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Disk quota exceeded');
      const c = await createStart(bundle(['mkdir', '/tmp/n'], sc, nnp));
      expect(c.code).toBe(0); // start succeeded; the container's mkdir failed
      expect(c.stderr).toContain('Disk quota exceeded');
      const got = await a.got();
      expect(got.map((g) => g.link)).toEqual(['anon_inode:seccomp notify', 'anon_inode:seccomp notify']);
    });

    it(`the syscalls tsrunc-init and the program make, notified and continued by the agent (noNewPrivileges ${nnp})`, async () => {
      // runc's "important syscalls" case: execve, openat, open, read, close go to the agent.
      const a = await agent(-1);
      const sc = { ...allowBut(['execve', 'openat', 'open', 'read', 'close'], 'SCMP_ACT_NOTIFY'), listenerPath: a.sock };
      const b = bundle(['cat', '/etc/passwd'], sc, nnp, (c) => (c.hooks = { startContainer: [{ path: '/bin/true' }] }));
      const r = await createStart(b);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout.length).toBeGreaterThan(0);
      expect((await a.got())[0].continued.length).toBeGreaterThan(0);
    });

    it(`a startContainer hook with a listener gets stdio and nothing more (noNewPrivileges ${nnp})`, async () => {
      const a = await agent(0);
      const sc = { ...allowBut(MKDIR, 'SCMP_ACT_NOTIFY'), listenerPath: a.sock };
      // ls's own directory fd is the fourth (runc's test counts the same).
      const hook = { path: '/bin/sh', args: ['sh', '-c', 'ls /proc/self/fd | wc -l; ls -l /proc/self/fd >&2'] };
      const b = bundle(['true'], sc, nnp, (c) => (c.hooks = { startContainer: [hook] }));
      const r = await createStart(b);
      expect(r.code).toBe(0);
      expect(r.stderr.split('\n')[0].trim()).toBe('4');
      expect((await a.got())[0].link).toBe('anon_inode:seccomp notify');
    });
  }
});

// ---- process.cwd while still privileged (issue 14, exec/cwd) ----
//
// runc's finalizeNamespace: chdir before the user and capabilities change,
// so that a cwd only the runtime's full root can enter works; refused there
// with EACCES or EPERM, chdir again as the user (who may own it: a volume
// chowned to the container's user, or root squashed by NFS).

/** A host directory with mode 0700, owned by uid:gid, bound at /d. */
function lockedDir(uidOwner: number, gidOwner: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-cwd-'));
  chmodSync(dir, 0o755);
  const d = join(dir, 'd');
  mkdirSync(d);
  chownSync(d, uidOwner, gidOwner);
  chmodSync(d, 0o700);
  return (c: any) => c.mounts.push({ destination: '/d', type: 'bind', source: d, options: ['bind'] });
}

describe.skipIf(!isRoot)('process.cwd is entered while still privileged', () => {
  it('a cwd only full root can enter (0700, another owner; the container keeps no CAP_DAC_*): run, create, exec --user 0', async () => {
    const mount = lockedDir(1000, 1000);
    const b = makeBundle(['pwd'], (c) => {
      mount(c);
      c.process.cwd = '/d';
    });
    expect(JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')).process.capabilities.effective).not.toContain('CAP_DAC_OVERRIDE');
    expect(rt(root, ['run', '-b', b, uid('cwd')])).toMatchObject({ code: 0, stdout: '/d\n', stderr: '' });
    expect(await createStart(b)).toMatchObject({ code: 0, stdout: '/d\n', stderr: '' });
    // A user that may not enter it: the cwd is set before the switch (runc does the same).
    const user = makeBundle(['pwd'], (c) => {
      mount(c);
      c.process.cwd = '/d';
      c.process.user = { uid: 2000, gid: 2000 };
    });
    expect(rt(root, ['run', '-b', user, uid('cwd')])).toMatchObject({ code: 0, stdout: '/d\n' });
    const id = uid('cwd');
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '30'], mount), id])).toMatchObject({ code: 0 });
    expect(rt(root, ['exec', '--user', '0', '--cwd', '/d', id, 'pwd'])).toMatchObject({ code: 0, stdout: '/d\n', stderr: '' });
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
  });

  it('refused to root (EACCES), tried again as the user, who owns it (user namespace, gid not mapped)', () => {
    // Container root has CAP_DAC_OVERRIDE only over inodes whose uid and gid
    // are both mapped; the directory's gid (host 0) is not, its uid is the user's.
    const fs = join(mkdtempSync(join(tmpdir(), 'tsrunc-rootfs-')), 'rootfs');
    chmodSync(join(fs, '..'), 0o755);
    cpSync(rootfs, fs, { recursive: true, verbatimSymlinks: true });
    execFileSync('chown', ['-R', '100000:100000', fs]);
    const mount = lockedDir(101000, 0);
    const b = makeBundle(['pwd'], (c) => {
      mount(c);
      c.root = { path: fs, readonly: false };
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.map((m: any) => (m.type === 'devpts' ? { ...m, options: m.options.filter((o: string) => o !== 'gid=5') } : m));
      c.process.cwd = '/d';
      c.process.user = { uid: 1000, gid: 1000 };
    });
    expect(rt(root, ['run', '-b', b, uid('cwd')])).toMatchObject({ code: 0, stdout: '/d\n', stderr: '' });
    // Neither root nor the user can enter: the error names the cwd.
    const none = lockedDir(102000, 0);
    const n = makeBundle(['pwd'], (c) => {
      none(c);
      c.root = { path: fs, readonly: false };
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.map((m: any) => (m.type === 'devpts' ? { ...m, options: m.options.filter((o: string) => o !== 'gid=5') } : m));
      c.process.cwd = '/d';
      c.process.user = { uid: 1000, gid: 1000 };
    });
    const r = rt(root, ['run', '-b', n, uid('cwd')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('chdir to cwd \\"/d\\": EACCES');
  });
});

// ---- startContainer hooks inside the container (issue 14, hooks) ----

const ldconfig = '/sbin/ldconfig';
const staticLdconfig = existsSync(ldconfig) && !spawnSync('ldd', [ldconfig], { encoding: 'utf8' }).stdout.includes('=>');

describe.skipIf(!isRoot)('startContainer hooks in the container, under the profile', () => {
  it('ldconfig as a startContainer hook writes the container\'s ld.so.cache, not the host\'s (a 2018 allowlist, with and without noNewPrivileges)', async (t) => {
    t.skip(!staticLdconfig, 'needs a static /sbin/ldconfig on the host');
    const hostCache = existsSync('/etc/ld.so.cache') ? readFileSync('/etc/ld.so.cache') : undefined;
    for (const nnp of [true, false]) {
      const fs = join(mkdtempSync(join(tmpdir(), 'tsrunc-rootfs-')), 'rootfs');
      cpSync(rootfs, fs, { recursive: true, verbatimSymlinks: true });
      mkdirSync(join(fs, 'sbin'), { recursive: true });
      writeFileSync(join(fs, 'sbin/ldconfig'), '');
      // The host's static ldconfig, bound where the hook's path resolves: in the container.
      const b = bundle(['sh', '-c', 'test -s /etc/ld.so.cache && echo cached'], profile2018(EPERM), nnp, (c) => {
        c.root = { path: fs, readonly: false };
        c.mounts.push({ destination: '/sbin/ldconfig', type: 'bind', source: ldconfig, options: ['bind', 'ro'] });
        c.hooks = { startContainer: [{ path: '/sbin/ldconfig', args: ['ldconfig'] }] };
      });
      expect({ nnp, ...(await createStart(b)) }).toMatchObject({ nnp, code: 0, stdout: 'cached\n' });
      expect(existsSync(join(fs, 'etc/ld.so.cache'))).toBe(true);
    }
    if (hostCache) expect(readFileSync('/etc/ld.so.cache').equals(hostCache)).toBe(true);
  });

  it('a failing startContainer hook fails start (exit 1, the hook named) and run, under a 2018 allowlist', () => {
    for (const nnp of [true, false]) {
      const id = uid('seccomp');
      const b = bundle(['echo', 'must not run'], profile2018(EPERM), nnp, (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 7'] }] }));
      expect(rt(root, ['create', '-b', b, id])).toMatchObject({ code: 0, stdout: '' });
      const s = rt(root, ['start', id]);
      expect({ nnp, code: s.code }).toEqual({ nnp, code: 1 });
      expect(s.stderr).toContain('startContainer hook #0: exit status 7');
      expect(rt(root, ['list', '-q']).stdout).not.toContain(id);
      const r = rt(root, ['run', '-b', b, uid('seccomp')]);
      expect({ nnp, code: r.code, out: r.stdout }).toEqual({ nnp, code: 1, out: '' });
      expect(r.stderr).toContain('startContainer hook #0: exit status 7');
    }
  });
});
