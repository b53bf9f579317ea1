// runc's command-line contract beyond the lifecycle: terminals, exec, ps,
// list, features, kill --all, fds, logs.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as harness from './lib/harness.ts';
import { cleanup, isRoot, makeBundle, repo, requires, rt, runtime, state, stateRoot, uid, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));
const ptyTools = join(repo, 'test/lib/pty_tools.py');
const hasPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0;

function running(args: string[], mutate?: (c: any) => void): string {
  const id = uid();
  const r = rt(root, ['run', '-d', '-b', makeBundle(args, mutate), id]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return id;
}

describe('terminals', () => {
  requires(isRoot, 'needs root');
  requires(hasPython, 'needs python3 with socket.recv_fds (Python 3.9+)');
  it('--console-socket receives the pty master; the shell talks through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-console-'));
    const sock = join(dir, 'console.sock');
    const receiver = spawn('python3', [ptyTools, 'console', sock, 'tty; stty size; echo hello-$((6*7))\\nexit 3\\n']);
    let output = '';
    receiver.stdout.on('data', (d) => (output += d));
    await until(() => output.includes('ready'), 5000, 'receiver');
    const id = uid();
    const bundle = makeBundle(['sh'], (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 101 };
    });
    expect(rt(root, ['create', '--console-socket', sock, '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['start', id]).code).toBe(0);
    await new Promise((r) => receiver.on('exit', r));
    expect(output).toMatch(/\/dev\/pts\/\d+\r?\n/);
    expect(output).toContain('33 101');
    expect(output).toContain('hello-42');
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('foreground run -t from a real tty: raw mode, window size, Ctrl-C reaches the container', () => {
    const bundle = makeBundle(['sh'], (c) => (c.process.terminal = true));
    const r = spawnSync('python3', [ptyTools, 'pty', runtime, '--root', root, 'run', '-b', bundle, uid(), '--keys',
      'sleep:0.5|sleep 100\\r|sleep:0.5|\\x03|sleep:0.3|echo after-$((1+1)) $(stty size)\\r|sleep:0.3|exit 4\\r'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toContain('^C');
    expect(r.stdout).toContain('after-2 30 100');
    expect(r.status).toBe(4);
  });

  it('a terminal without a console socket is refused when detached, as runc does', () => {
    const bundle = makeBundle(['sh'], (c) => (c.process.terminal = true));
    const r = rt(root, ['create', '-b', bundle, uid()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot allocate tty if runc will detach without setting console socket');
    const r2 = rt(root, ['run', '-d', '-b', bundle, uid()]);
    expect(r2.stderr).toContain('cannot allocate tty if runc will detach without setting console socket');
  });
});

describe.skipIf(!isRoot)('exec', () => {
  it('joins every namespace of the container and returns the exit status', () => {
    const id = running(['sleep', '100'], (c) => (c.hostname = 'exec-box'));
    const init = state(root, id).pid;
    const r = rt(root, ['exec', id, 'sh', '-c', 'hostname; echo $$; ls -l /proc/self/ns | sed "s/.*-> //"; exit 5']);
    expect(r.code).toBe(5);
    const [host, pid, ...ns] = r.stdout.trim().split('\n');
    expect(host).toBe('exec-box');
    expect(Number(pid)).toBeGreaterThan(1); // inside the container's pid namespace
    expect(Number(pid)).toBeLessThan(100);
    for (const t of ['mnt', 'uts', 'ipc', 'net', 'pid']) expect(ns).toContain(readlinkSync(`/proc/${init}/ns/${t}`));
  });

  it('flags: -e, --cwd, -u uid:gid, --additional-gids, -d with --pid-file', async () => {
    const id = running(['sleep', '100']);
    const r = rt(root, ['exec', '-e', 'FOO=bar', '--cwd', '/tmp', '-u', '1000:1001', '--additional-gids', '1002', id, 'sh', '-c', 'echo $FOO $(pwd) $(id -u) $(id -G)']);
    expect(r).toMatchObject({ code: 0, stdout: 'bar /tmp 1000 1001 1002\n' });
    const pidFile = join(mkdtempSync(join(tmpdir(), 'tsrunc-pid-')), 'pid');
    expect(rt(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '30']).code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x0030\x00');
    expect(JSON.parse(rt(root, ['ps', '--format', 'json', id]).stdout)).toContain(pid);
  });

  it("a program the kernel will not exec (ENOEXEC) fails exec with exit 255 and runc's words, detached too", () => {
    // tsrunc-init makes the last execve: its failure comes back over the
    // child's error pipe, which stays open until that exec (and -d returns after it).
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-noexec-'));
    writeFileSync(join(dir, 'bad'), 'not a program, no #! line\n', { mode: 0o755 });
    const withBad = (c: any) => c.mounts.push({ destination: '/bad', type: 'bind', source: join(dir, 'bad'), options: ['bind', 'ro'] });
    const id = running(['sleep', '100'], withBad);
    const pidFile = join(dir, 'pid');
    for (const detach of [[], ['-d', '--pid-file', pidFile]]) {
      const r = rt(root, ['exec', ...detach, id, '/bad']);
      expect({ detach, ...r }).toMatchObject({ detach, code: 255, stderr: expect.stringMatching(/exec \\?"\/bad\\?": exec format error/) });
    }
    expect(existsSync(pidFile)).toBe(false);
    // Only sleep 100 is left in the container.
    expect(JSON.parse(rt(root, ['ps', '--format', 'json', id]).stdout)).toEqual([state(root, id).pid]);
    // run: the same failure, before the container counts as started.
    const r = rt(root, ['run', '-b', makeBundle(['/bad'], withBad), uid()]);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/exec \\?"\/bad\\?": exec format error/) });
  });

  it('--process process.json, validated like config.json', () => {
    const id = running(['sleep', '100']);
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-proc-'));
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ args: ['sh', '-c', 'echo from-process $X'], env: ['X=1'], cwd: '/', user: { uid: 0, gid: 0 } }));
    expect(rt(root, ['exec', '--process', join(dir, 'p.json'), id])).toMatchObject({ code: 0, stdout: 'from-process 1\n' });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ args: [], cwd: '/' }));
    const bad = rt(root, ['exec', '--process', join(dir, 'bad.json'), id]);
    expect(bad.code).toBe(255) // runc: every exec failure before the process runs;
    expect(bad.stderr).toContain('process.args: must be a non-empty array of strings');
  });

  it('exec -t with --console-socket, and foreground exec -t from a tty', async () => {
    const id = running(['sleep', '100']);
    const r = spawnSync('python3', [ptyTools, 'pty', runtime, '--root', root, 'exec', '-t', id, 'sh', '-c', 'tty; stty size; exit 6'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('30 100');
    expect(r.status).toBe(6);
  });

  it('into a stopped container is refused', async () => {
    const id = uid();
    expect(rt(root, ['create', '-b', makeBundle(['true']), id]).code).toBe(0);
    expect(rt(root, ['start', id]).code).toBe(0);
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    const r = rt(root, ['exec', id, 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('cannot exec in a stopped container');
  });

  it('exec --apparmor and --process-label set the labels, and are refused where that LSM does not run (as the config fields are)', (t) => {
    const apparmor = existsSync('/sys/kernel/security/apparmor');
    const selinux = existsSync('/sys/fs/selinux/enforce');
    if (apparmor && selinux) t.skip('this host runs AppArmor and SELinux: there is no refusal to see');
    const id = running(['sleep', '100']);
    if (!apparmor) expect(rt(root, ['exec', '--apparmor', 'some-profile', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('process.apparmorProfile (AppArmor is not enabled on this host)') });
    if (!selinux) expect(rt(root, ['exec', '--process-label', 'system_u:system_r:container_t:s0', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('process.selinuxLabel (SELinux is not enabled on this host)') });
    // Without them, the same exec runs.
    expect(rt(root, ['exec', id, 'true'])).toMatchObject({ code: 0, stderr: '' });
  });

  it('cannot reach the host binary through /proc/<pid>/exe of an exec in progress', () => {
    const id = running(['sleep', '100']);
    // Every process the container can see: none may resolve to a host binary.
    const r = rt(root, ['exec', id, 'sh', '-c', 'for p in /proc/[0-9]*; do readlink $p/exe; done']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('node');
  });
});

describe.skipIf(!isRoot)('inspection and signals', () => {
  it('ps lists the container\'s processes; --format json gives their pids', () => {
    const id = running(['sh', '-c', 'sleep 100 & sleep 101 & wait']);
    const pids: number[] = JSON.parse(rt(root, ['ps', '--format', 'json', id]).stdout);
    expect(pids).toHaveLength(3);
    expect(pids).toContain(state(root, id).pid);
    const table = rt(root, ['ps', id]).stdout.trim().split('\n');
    expect(table[0]).toMatch(/PID/);
    expect(table.slice(1).join('\n')).toMatch(/sleep 101/);
    const custom = rt(root, ['ps', id, '-o', 'pid,comm']).stdout;
    expect(custom.split('\n')[0].trim()).toBe('PID COMMAND');
    // ps(1)'s own failure, with what it printed (stdout and stderr together), as runc reports it.
    const bad = rt(root, ['ps', id, '--no-such-ps-option']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/level=error msg="exit status 1: .*unknown gnu long option/);
  });

  it('ps: a ps(1) that is not in PATH is named, as runc names it', () => {
    const id = running(['sleep', '100']);
    const r = rt(root, ['ps', id], { env: { ...process.env, PATH: '/nonexistent' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exec: \\"ps\\": executable file not found in $PATH');
  });

  it('list, list -q, list --format json', () => {
    const id = running(['sleep', '100']);
    expect(rt(root, ['list', '-q']).stdout.split('\n')).toContain(id);
    const table = rt(root, ['list']).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    const json = JSON.parse(rt(root, ['list', '--format', 'json']).stdout);
    expect(json.find((c: any) => c.id === id)).toMatchObject({ id, status: 'running', pid: state(root, id).pid });
  });

  it('exec\'d processes join the container\'s cgroup', () => {
    const id = running(['sleep', '100']);
    const init = state(root, id).pid;
    const cg = (pid: string | number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => /:(pids|memory):/.test(l)).sort().join('\n');
    const r = rt(root, ['exec', id, 'cat', '/proc/self/cgroup']);
    expect(r.code).toBe(0);
    expect(cg(init)).toMatch(/pids:\/.+/);
    // the exec'd process is in the same cgroups as init (seen from the host, by its pid)
    const pidFile = join(mkdtempSync(join(tmpdir(), 'tsrunc-pid-')), 'pid');
    expect(rt(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '30']).code).toBe(0);
    expect(cg(readFileSync(pidFile, 'utf8'))).toBe(cg(init));
  });

  it('kill --all signals every process of the container', async () => {
    const id = running(['sh', '-c', 'trap "" TERM; sleep 100 & sleep 101 & wait']);
    await until(() => JSON.parse(rt(root, ['ps', '--format', 'json', id]).stdout).length === 3, 5000, 'children');
    expect(rt(root, ['kill', '--all', id, 'KILL']).code).toBe(0);
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
  });

  it('features tells what is implemented', () => {
    const f = JSON.parse(rt(root, ['features']).stdout);
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.mountOptions).toContain('rbind');
    expect(f.mountOptions).toContain('rro');
    expect(f.mountOptions).toContain('tmpcopyup');
    expect(f.linux.intelRdt.enabled).toBe(false); // not implemented: not claimed
    // Implemented, whatever this host runs (features-linux.md): an engine reads
    // these to decide what to ask for (containerd, idmapped mounts for user-namespaced pods).
    expect(f.linux.apparmor.enabled).toBe(true);
    expect(f.linux.selinux.enabled).toBe(false); // linux.mountLabel is refused
    expect(f.linux.mountExtensions.idmap.enabled).toBe(true);
    expect(f.linux.namespaces).toContain('user');
    expect(f.linux.capabilities).toContain('CAP_SYS_ADMIN');
  });
});

describe.skipIf(!isRoot)('fds', () => {
  it('--preserve-fds N passes fds 3..3+N-1 and nothing more', () => {
    const a = openSync('/etc/hostname', 'r');
    const b = openSync('/etc/hostname', 'r');
    try {
      const r = rt(root, ['run', '--preserve-fds', '1', '-b', makeBundle(['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "']), uid()], { stdio: ['ignore', 'pipe', 'pipe', a, b] });
      // 0-2, the preserved 3, and ls's own directory fd 4
      expect(r.stdout).toBe('0 1 2 3 4 ');
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it('LISTEN_FDS passes the socket-activation fds and sets LISTEN_PID=1', () => {
    const a = openSync('/etc/hostname', 'r');
    try {
      // LISTEN_PID must name tsrunc itself: the shell's pid, which exec keeps.
      const bundle = makeBundle(['sh', '-c', 'echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd | sort -n | tr "\\n" " "']);
      const r = spawnSync('sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', 'sh', runtime, '--root', root, 'run', '-b', bundle, uid()], {
        stdio: ['ignore', 'pipe', 'pipe', a],
        encoding: 'utf8',
      });
      expect(r.stdout).toBe('1 1\n0 1 2 3 4 ');
    } finally {
      closeSync(a);
    }
  });
});

describe.skipIf(!isRoot)('logging', () => {
  it('--log-format text writes logrus-style lines to --log; stderr gets the bare message', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'tsrunc-log-')), 'log');
    const r = rt(root, ['--log', log, 'state', 'nope']);
    expect(r.stderr).toBe('container does not exist\n');
    expect(readFileSync(log, 'utf8')).toMatch(/^time="[^"]+" level=error msg="container does not exist"\n$/);
  });

  it('success prints only the verb\'s output', () => {
    const id = uid();
    const r = rt(root, ['create', '-b', makeBundle(['true']), id]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(rt(root, ['delete', '--force', id])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(root, id))).toBe(false);
  });

  const DEBUG_LINE = /^time="[^"]+" level=debug msg=".*"$/;
  const debugLines = (stderr: string) => stderr.split('\n').filter(Boolean);

  it('--debug: level=debug lines on stderr for what is done (cgroup paths and writes, mounts, hooks, the exec); stdout unchanged', () => {
    const id = uid();
    const bundle = makeBundle(['sh', '-c', 'echo out'], (c) => {
      c.hooks = { prestart: [{ path: '/bin/true' }] };
      c.linux.resources.pids = { limit: 50 };
    });
    const r = rt(root, ['--debug', 'run', '-b', bundle, id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('out\n');
    const lines = debugLines(r.stderr);
    for (const l of lines) expect(l).toMatch(DEBUG_LINE);
    const text = lines.join('\n');
    expect(text).toContain(`msg="tsrunc `);
    expect(text).toMatch(/cgroup: write \\"50\\" to \S+\/pids.max/);
    expect(text).toMatch(/create \S+: cgroup pids: \/sys\/fs\/cgroup\S*/);
    expect(text).toContain('mount proc proc on /proc');
    expect(text).toContain('running prestart hook #0: /bin/true');
    expect(text).toContain('exec [\\"sh\\",\\"-c\\",\\"echo out\\"] in / as 0:0');
  });

  it('--debug works on every verb; --log with json gets the debug lines, and an error stays one line with the bare message', () => {
    const id = uid();
    const bundle = makeBundle(['sleep', '100']);
    const verbs: string[][] = [
      ['create', '-b', bundle, id],
      ['state', id],
      ['start', id],
      ['list'],
      ['ps', id],
      ['exec', id, 'true'],
      ['update', '--pids-limit', '40', id],
      ['pause', id],
      ['resume', id],
      ['events', '--stats', id],
      ['kill', id, 'KILL'],
      ['delete', '-f', id],
      ['features'],
      ['spec', '-b', mkdtempSync(join(tmpdir(), 'tsrunc-spec-'))],
    ];
    for (const args of verbs) {
      const plain = args[0] === 'state' || args[0] === 'list' || args[0] === 'features';
      const r = rt(root, ['--debug', ...args]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
      const lines = debugLines(r.stderr);
      expect(lines.length, args[0]).toBeGreaterThan(0);
      for (const l of lines) expect(l, args[0]).toMatch(DEBUG_LINE);
      if (plain) expect(r.stdout.length).toBeGreaterThan(0);
    }
    const log = join(mkdtempSync(join(tmpdir(), 'tsrunc-log-')), 'log.json');
    const r = rt(root, ['--debug', '--log', log, '--log-format', 'json', 'state', 'nope']);
    expect(r).toMatchObject({ code: 1, stderr: 'container does not exist\n' });
    const entries = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.at(-1)).toMatchObject({ level: 'error', msg: 'container does not exist' });
    expect(entries.slice(0, -1).every((e) => e.level === 'debug')).toBe(true);
    expect(entries.some((e) => e.msg.startsWith('tsrunc '))).toBe(true);
  });
});

describe.skipIf(!isRoot)('more flags', () => {
  it('--no-pivot: the rootfs is moved onto / and chrooted into', () => {
    const r = rt(root, ['run', '--no-pivot', '-b', makeBundle(['sh', '-c', 'ls /bin/busybox && head -1 /proc/self/mountinfo | cut -d" " -f5']), uid()]);
    expect(r).toMatchObject({ code: 0, stdout: '/bin/busybox\n/\n' });
  });

  it('--no-new-keyring is accepted and the container runs', () => {
    expect(rt(root, ['run', '--no-new-keyring', '-b', makeBundle(['true']), uid()]).code).toBe(0);
  });

  it('exec --cap adds to the bounding/effective/permitted sets; --no-new-privs sets no_new_privs', () => {
    const id = running(['sleep', '100'], (c) => (c.process.noNewPrivileges = false));
    const status = (extra: string[]) => rt(root, ['exec', ...extra, id, 'cat', '/proc/self/status']).stdout;
    const capBnd = (s: string) => BigInt('0x' + /CapBnd:\s*([0-9a-f]+)/.exec(s)![1]);
    const SYS_ADMIN = 1n << 21n;
    expect(capBnd(status([])) & SYS_ADMIN).toBe(0n);
    expect(capBnd(status(['--cap', 'CAP_SYS_ADMIN'])) & SYS_ADMIN).toBe(SYS_ADMIN);
    expect(status([])).toMatch(/NoNewPrivs:\s*0/);
    expect(status(['--no-new-privs'])).toMatch(/NoNewPrivs:\s*1/);
  });
});

describe('events --interval', () => {
  it("takes Go's durations, micro as us, U+00B5 or U+03BC", async () => {
    const { parseDuration } = await import('../src/cli/commands/events.ts');
    expect(['1us', '1\u00b5s', '1\u03bcs', '1m30s', '250ms', '-2s'].map(parseDuration)).toEqual([0.001, 0.001, 0.001, 90_000, 250, -2000]);
    expect(() => parseDuration('5xs')).toThrow(/invalid duration|missing unit/);
  });
});

describe.skipIf(!isRoot)('host errors name what is wrong', () => {
  it("a rootfs the user namespace's root cannot reach: the rootfs, the host uid and the directory that denies search", () => {
    // The shared rootfs, reached through a 0700 directory of another user's.
    // (One of root's, as a checkout under /root, is no longer a problem: the
    // child opens the rootfs while it is still the host's root, as runc does.)
    const { rootfs } = harness;
    const priv = mkdtempSync(join(tmpdir(), 'tsrunc-priv-'));
    chmodSync(priv, 0o700);
    chownSync(priv, 12345, 12345);
    symlinkSync(rootfs, join(priv, 'rootfs'));
    const bundle = makeBundle(['true'], (c) => {
      c.root.path = join(priv, 'rootfs');
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    const r = rt(root, ['run', '-b', bundle, uid()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`open rootfs ${join(priv, 'rootfs')}: EACCES: the container's root (host uid 100000, gid 100000) cannot search ${priv} (mode 0700, owner 12345:12345)`);
    // Reachable, the same bundle runs.
    chmodSync(priv, 0o711);
    expect(rt(root, ['run', '-b', bundle, uid()])).toMatchObject({ code: 0, stderr: '' });
  });
});

describe.skipIf(!isRoot)('arguments as runc takes them (urfave/cli)', () => {
  it("a verb's flags after the id count as flags (create ID -b, kill ID SIG --all, update ID --pids-limit, delete ID --force); exec's and ps's words after the id are the command's", () => {
    const id = uid();
    expect(rt(root, ['create', id, '-b', makeBundle(['sleep', '100'])])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['start', id]).code).toBe(0);
    // exec: "-n" is echo's; ps: "-o" and "pid" are ps(1)'s.
    expect(rt(root, ['exec', id, 'echo', '-n', 'hi'])).toMatchObject({ code: 0, stdout: 'hi', stderr: '' });
    expect(rt(root, ['ps', id, '-o', 'pid']).stdout.split('\n')[0].trim()).toBe('PID');
    expect(rt(root, ['update', id, '--pids-limit', '42'])).toMatchObject({ code: 0, stderr: '' }); // (not reordered: 3 arguments, refused)
    expect(rt(root, ['kill', id, 'KILL', '--all'])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['delete', id, '--force'])).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(join(root, id))).toBe(false);
  });

  it.each([
    [['state', 'a', 'b'], 'requires exactly 1 argument(s)'],
    [['start'], 'requires exactly 1 argument(s)'],
    [['delete', 'a', '--bogus'], 'requires exactly 1 argument(s)'],
    [['kill', 'a', 'KILL', 'b'], 'requires a maximum of 2 argument(s)'],
    [['exec'], 'requires a minimum of 1 argument(s)'],
    [['list', 'a'], 'requires exactly 0 argument(s)'],
  ])('%j: runc\'s count, exit status 1', (args, words) => {
    const r = rt(root, args as string[]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tsrunc: \\"${(args as string[])[0]}\\" ${words}`); // (logfmt escapes the quotes)
  });
});

describe('help', () => {
  const VERBS = ['create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'spec', 'exec', 'ps', 'features', 'pause', 'resume', 'update', 'events'];
  const hasRunc = spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0;
  const help = (args: string[]) => spawnSync(runtime, args, { encoding: 'utf8' });
  /** The long option names an OPTIONS block lists (lines that start with "   --"). */
  const optionNames = (text: string) => [...text.matchAll(/^ {3}(--[a-z0-9-]+)/gm)].map((m) => m[1]);

  it('an unknown command (checkpoint among them, and the names of an object\'s own properties): runc\'s "No help topic" and exit status 3', () => {
    for (const args of [['checkpoint', 'x'], ['help', 'nope'], ['nope', '-h'], ['constructor'], ['help', 'toString'], ['__proto__', 'x']]) {
      const r = help(args);
      expect(r.status, args.join(' ')).toBe(3);
      expect(r.stderr).toContain(`No help topic for '${args[0] === 'help' ? args[1] : args[0]}'`);
    }
  });

  it('tsrunc -h, --help: runc\'s layout, every command listed, exit 0', () => {
    for (const flag of ['-h', '--help']) {
      const r = help([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^NAME:\n {3}tsrunc - /);
      for (const section of ['USAGE:', 'VERSION:', 'COMMANDS:', 'GLOBAL OPTIONS:']) expect(r.stdout).toContain(`\n${section}\n`);
      for (const v of VERBS) expect(r.stdout).toMatch(new RegExp(`^ {3}${v} +\\S`, 'm'));
      for (const g of ['--debug', '--log value', '--log-format value', '--root value']) expect(r.stdout).toContain(`   ${g}`);
    }
  });

  it.each(VERBS)('tsrunc %s -h / --help / help VERB: NAME, USAGE, OPTIONS with a text for each flag, exit 0; runc\'s options are all there', (verb) => {
    const outs = [help([verb, '-h']), help([verb, '--help']), help(['help', verb])];
    for (const r of outs) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(outs[0].stdout);
    }
    const text = outs[0].stdout;
    expect(text).toMatch(new RegExp(`^NAME:\\n {3}tsrunc ${verb} - \\S`));
    expect(text).toMatch(new RegExp(`\\nUSAGE:\\n {3}tsrunc ${verb} `));
    // An option line with no text after its names would be a flag the help forgot.
    for (const line of text.split('\n').filter((l) => /^ {3}-/.test(l))) expect(line, line).toMatch(/^ {3}\S.*\S {2,}\S/);
    if (hasRunc) {
      const runcNames = optionNames(spawnSync('runc', [verb, '--help'], { encoding: 'utf8' }).stdout);
      expect(optionNames(text)).toEqual(expect.arrayContaining(runcNames));
    }
  });
});
