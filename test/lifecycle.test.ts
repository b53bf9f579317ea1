// create / start / state / kill / delete / run against real containers.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, isRoot, makeBundle, rt, state, stateRoot, uid, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));

/** A host directory bind-mounted at /out, so the container can leave marks. */
function outDir(): { host: string; mount: object } {
  const host = mkdtempSync(join(tmpdir(), 'tsrunc-out-'));
  return { host, mount: { destination: '/out', type: 'bind', source: host, options: ['rbind', 'rw'] } };
}

describe.skipIf(!isRoot)('lifecycle', () => {
  it('create, start, state at each step, stop, delete', async () => {
    const id = uid();
    const out = outDir();
    const bundle = makeBundle(['sh', '-c', 'echo ran > /out/marker; sleep 1'], (c) => c.mounts.push(out.mount));
    const pidFile = join(out.host, 'pid');
    const create = rt(root, ['create', '--bundle', bundle, '--pid-file', pidFile, id]);
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);
    expect(create.stdout).toBe('');

    const created = state(root, id);
    expect(created).toMatchObject({ id, status: 'created', bundle, ociVersion: expect.any(String) });
    expect(created.pid).toBeGreaterThan(0);
    expect(readFileSync(pidFile, 'utf8')).toBe(String(created.pid));
    // The user's process must not have run: give it every chance to.
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(join(out.host, 'marker'))).toBe(false);
    expect(state(root, id).status).toBe('created');

    const start = rt(root, ['start', id]);
    expect(start).toMatchObject({ code: 0, stdout: '', stderr: '' });
    await until(() => existsSync(join(out.host, 'marker')), 5000, 'marker');
    expect(state(root, id).status).toBe('running');
    expect(readFileSync(join(out.host, 'marker'), 'utf8')).toBe('ran\n');

    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    expect(state(root, id).pid).toBe(0);
    expect(rt(root, ['start', id]).code).not.toBe(0);
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(existsSync(join(root, id))).toBe(false);
    expect(rt(root, ['state', id]).stderr).toContain('container does not exist');
  });

  it('run exits with the container status, 128+N when killed by signal N', () => {
    expect(rt(root, ['run', '-b', makeBundle(['sh', '-c', 'exit 7']), uid()]).code).toBe(7);
    expect(rt(root, ['run', '-b', makeBundle(['true']), uid()]).code).toBe(0);
    // pid 1 ignores signals it has no handler for, even its own: a child shell kills itself.
    expect(rt(root, ['run', '-b', makeBundle(['sh', '-c', 'sh -c "kill -9 \\$\\$"; exit $?']), uid()]).code).toBe(137);
  });

  it('run leaves no state behind and passes stdio through', () => {
    const id = uid();
    const r = rt(root, ['run', '-b', makeBundle(['sh', '-c', 'echo to-out; echo to-err >&2; read x; echo got $x']), id], { input: 'line\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'to-out\ngot line\n', stderr: 'to-err\n' });
    expect(existsSync(join(root, id))).toBe(false);
  });

  it.each([['KILL', 137], ['SIGKILL', 137], ['9', 137], ['TERM', 42], ['SIGTERM', 42], ['15', 42], ['usr1', 43]])(
    'kill %s reaches the container',
    async (sig, expected) => {
      const id = uid();
      const bundle = makeBundle(['sh', '-c', "trap 'exit 42' TERM; trap 'exit 43' USR1; echo ready; sleep 100 & wait"]);
      const { spawn } = await import('node:child_process');
      const { runtime } = await import('./lib/harness.ts');
      const child = spawn(runtime, ['--root', root, 'run', '-b', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      await new Promise<void>((res) => child.stdout!.once('data', () => res()));
      const k = rt(root, ['kill', id, sig]);
      expect(k).toMatchObject({ code: 0, stderr: '' });
      const code = await new Promise<number>((res) => child.on('exit', (c) => res(c ?? -1)));
      expect(code).toBe(expected);
    },
  );

  it('kill without a signal sends SIGTERM; unknown signals are refused', async () => {
    const id = uid();
    expect(rt(root, ['create', '-b', makeBundle(['sleep', '100']), id]).code).toBe(0);
    const bad = rt(root, ['kill', id, 'NOPE']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown signal');
    // A created container's init (tsrunc-init) has no handlers: SIGTERM kills it.
    expect(rt(root, ['kill', id]).code).toBe(0);
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    expect(rt(root, ['kill', id, 'KILL']).stderr).toContain('container not running');
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('delete refuses a running container; --force kills it', async () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]).code).toBe(0);
    const pid = state(root, id).pid;
    const r = rt(root, ['delete', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot delete container ${id} that is not stopped: running`);
    expect(state(root, id).status).toBe('running');
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
    expect(existsSync(`/proc/${pid}/status`) && !readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ')).toBe(false);
    expect(existsSync(join(root, id))).toBe(false);
  });

  it('a created container can be deleted without being started', () => {
    const id = uid();
    expect(rt(root, ['create', '-b', makeBundle(['sleep', '100']), id]).code).toBe(0);
    const pid = state(root, id).pid;
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(existsSync(join(root, id))).toBe(false);
    expect(existsSync(`/proc/${pid}/exe`)).toBe(false);
  });

  it('refuses a duplicate id and leaves the first container alone', () => {
    const id = uid();
    const bundle = makeBundle(['sleep', '100']);
    expect(rt(root, ['create', '-b', bundle, id]).code).toBe(0);
    const first = state(root, id);
    const again = rt(root, ['create', '-b', bundle, id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`container with id exists: ${id}`);
    expect(state(root, id)).toEqual(first);
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it.each(['a/b', '..', '.', 'x y', '../escape', 'a\\b'])('refuses the bad id %j', (id) => {
    const r = rt(root, ['create', '-b', makeBundle(['true']), id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid container id format');
    expect(readdirSync(root).filter((n) => n.includes('escape') || n === 'a')).toEqual([]);
  });

  it.each(['state', 'start', 'kill', 'delete'])('%s of an unknown container says it does not exist', (verb) => {
    const r = rt(root, [verb, 'no-such-container']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('container does not exist');
  });

  it('a missing executable fails create with runc\'s message and leaves nothing', () => {
    const id = uid();
    const r = rt(root, ['create', '-b', makeBundle(['no-such-binary']), id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exec: \\"no-such-binary\\": executable file not found in $PATH');
    expect(existsSync(join(root, id))).toBe(false);
  });
});

describe.skipIf(!isRoot)('the container', () => {
  it('has the configured hostname, env, cwd, uid and gid', () => {
    const bundle = makeBundle(['sh', '-c', 'hostname; echo $FOO; pwd; id -u; id -g; id -G; grep Groups /proc/self/status'], (c) => {
      c.hostname = 'boxy';
      c.process.env.push('FOO=bar baz');
      c.process.cwd = '/tmp';
      // A gid given twice is one supplementary group, as in runc.
      c.process.user = { uid: 1000, gid: 1001, additionalGids: [1003, 1002, 1003] };
    });
    const r = rt(root, ['run', '-b', bundle, uid()]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('boxy\nbar baz\n/tmp\n1000\n1001\n1001 1002 1003\nGroups:\t1002 1003 \n');
  });

  it('is pid 1 in its own pid namespace', () => {
    const r = rt(root, ['run', '-b', makeBundle(['sh', '-c', 'echo $$; ls /proc | grep -c "^[0-9]"']), uid()]);
    // sh (1), ls, grep: nothing of the host.
    expect(r.stdout.split('\n')[0]).toBe('1');
    expect(Number(r.stdout.split('\n')[1])).toBeLessThanOrEqual(3);
  });

  it('sees none of the host\'s mounts', () => {
    const mark = mkdtempSync(join(tmpdir(), 'tsrunc-hostmark-'));
    execFileSync('mount', ['-t', 'tmpfs', 'hostmark', mark]);
    try {
      const r = rt(root, ['run', '-b', makeBundle(['cat', '/proc/self/mountinfo']), uid()]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('hostmark');
      expect(r.stdout).not.toContain(mark);
      const points = r.stdout.trim().split('\n').map((l) => l.split(' ')[4]);
      expect(points[0]).toBe('/');
      for (const p of points) expect(p).toMatch(/^\/(proc|dev|sys)?(\/|$)/);
    } finally {
      execFileSync('umount', [mark]);
      rmSync(mark, { recursive: true });
    }
  });

  it('has the default devices and /dev symlinks', () => {
    const r = rt(root, ['run', '-b', makeBundle(['sh', '-c', 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for f in /dev/ptmx /dev/fd /dev/stdin; do readlink $f; done']), uid()]);
    expect(r.code).toBe(0);
    for (const [name, mm] of [['null', '1,   3'], ['zero', '1,   5'], ['full', '1,   7'], ['random', '1,   8'], ['urandom', '1,   9'], ['tty', '5,   0']])
      expect(r.stdout).toMatch(new RegExp(`^crw-rw-rw-.*${mm}.*/dev/${name}$`, 'm'));
    expect(r.stdout).toContain('pts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n');
  });

  it('has a read-only root when root.readonly is set, writable otherwise', () => {
    const ro = rt(root, ['run', '-b', makeBundle(['sh', '-c', 'touch /x 2>&1; echo $?']), uid()]);
    expect(ro.stdout).toContain('Read-only file system');
  });

  it('gets only the caller\'s stdio: fds the caller opened do not reach it', () => {
    const extra = [openSync('/etc/hostname', 'r'), openSync('/etc/hostname', 'r')];
    try {
      // tsrunc gets them as fds 3 and 4; inside, fd 3 is ls's own directory fd.
      const r = rt(root, ['run', '-b', makeBundle(['ls', '/proc/self/fd']), uid()], { stdio: ['ignore', 'pipe', 'pipe', ...extra] });
      expect(r.stdout.trim().split('\n').sort()).toEqual(['0', '1', '2', '3']);
    } finally {
      extra.forEach((fd) => closeSync(fd));
    }
  });
});

describe.skipIf(!isRoot)('spec and --version', () => {
  it('spec writes a config.json that runs and refuses to overwrite it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-spec-'));
    expect(rt(root, ['spec'], { cwd: dir }).code).toBe(0);
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(c.process.args).toEqual(['sh']);
    const again = rt(root, ['spec'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('config.json exists');
    // A bundle directory that is not there: the error names config.json there, not a temporary file.
    const missing = rt(root, ['spec', '-b', join(dir, 'nope')]);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining(`no such file or directory, open '${join(dir, 'nope', 'config.json')}'`) });
    expect(missing.stderr).not.toContain('.tmp');
  });

  it('--version names the runtime and the spec version', () => {
    const r = rt(root, ['--version']);
    expect(r.stdout).toMatch(/^tsrunc version \d+\.\d+\.\d+\nspec: 1\.\d+\.\d+\n/);
  });
});

beforeAll(() => mkdirSync(root, { recursive: true }));

describe.skipIf(!isRoot)('namespaces and mounts', () => {
  it('a namespace with a path is joined: uts, ipc and network of another container', async () => {
    const a = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], (c) => (c.hostname = 'first-box')), a]).code).toBe(0);
    const pid = state(root, a).pid;
    const nsOf = (p: number | string, t: string) => readlinkSync(`/proc/${p}/ns/${t}`);
    const out = outDir();
    const bundle = makeBundle(['sh', '-c', 'hostname > /out/h; readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net > /out/ns 2>&1; ls -l /proc/self/ns > /out/ls'], (c) => {
      delete c.hostname;
      c.mounts.push(out.mount);
      c.linux.namespaces = c.linux.namespaces.map((n: any) =>
        ['uts', 'ipc', 'network'].includes(n.type) ? { type: n.type, path: `/proc/${pid}/ns/${n.type === 'network' ? 'net' : n.type}` } : n,
      );
    });
    const r = rt(root, ['run', '-b', bundle, uid()]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(out.host, 'h'), 'utf8')).toBe('first-box\n');
    const ls = readFileSync(join(out.host, 'ls'), 'utf8');
    for (const t of ['uts', 'ipc', 'net']) expect(ls).toContain(nsOf(pid, t));
    // ...and the namespaces it did not join are its own.
    expect(ls).not.toContain(nsOf(pid, 'mnt'));
    expect(ls).not.toContain(nsOf('self', 'pid'));
    expect(rt(root, ['delete', '-f', a]).code).toBe(0);
  });

  it('a pid namespace with a path is joined: the container sees the other one\'s processes', () => {
    const a = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '4242']), a]).code).toBe(0);
    const pid = state(root, a).pid;
    const bundle = makeBundle(['sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "'], (c) =>
      c.linux.namespaces.forEach((n: any) => n.type === 'pid' && (n.path = `/proc/${pid}/ns/pid`)),
    );
    const id = uid();
    const r = rt(root, ['run', '-b', bundle, id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [self, init] = r.stdout.split('\n');
    expect(Number(self)).toBeGreaterThan(1);
    expect(init).toBe('sleep 4242 ');
    expect(rt(root, ['delete', '-f', a]).code).toBe(0);
  });

  it('mounts the default config\'s filesystems with their options', () => {
    const r = rt(root, ['run', '-b', makeBundle(['cat', '/proc/self/mountinfo']), uid()]);
    expect(r.code).toBe(0);
    const mounts = new Map(
      r.stdout.trim().split('\n').map((l) => {
        const [pre, post] = l.split(' - ');
        const f = pre.split(' ');
        const [fstype, , superOpts] = post.split(' ');
        return [f[4], { opts: f[5].split(','), fstype, superOpts: superOpts.split(',') }] as const;
      }),
    );
    expect(mounts.get('/')!.opts).toContain('ro');
    expect(mounts.get('/proc')!.fstype).toBe('proc');
    expect(mounts.get('/dev')).toMatchObject({ fstype: 'tmpfs', opts: expect.arrayContaining(['nosuid']) });
    expect(mounts.get('/dev')!.superOpts).toEqual(expect.arrayContaining(['mode=755']));
    expect(mounts.get('/dev/pts')!.fstype).toBe('devpts');
    expect(mounts.get('/dev/pts')!.superOpts).toEqual(expect.arrayContaining(['gid=5', 'mode=620', 'ptmxmode=666']));
    expect(mounts.get('/dev/shm')).toMatchObject({ fstype: 'tmpfs', opts: expect.arrayContaining(['nosuid', 'noexec', 'nodev']) });
    expect(mounts.get('/dev/mqueue')!.fstype).toBe('mqueue');
    expect(mounts.get('/sys')).toMatchObject({ fstype: 'sysfs', opts: expect.arrayContaining(['ro', 'nosuid', 'noexec', 'nodev']) });
    // maskedPaths and readonlyPaths of the default config
    expect(mounts.has('/proc/keys')).toBe(true); // masked by /dev/null (kcore is absent on some kernels)
    expect(mounts.get('/proc/scsi')?.opts ?? ['ro']).toContain('ro'); // a masked directory: read-only tmpfs
    expect(mounts.get('/proc/sys')!.opts).toContain('ro');
  });
});

describe.skipIf(!isRoot)('a create that died midway', () => {
  it('a container directory without state is stopped and delete removes it', () => {
    const id = uid();
    mkdirSync(join(root, id));
    expect(state(root, id)).toMatchObject({ id, status: 'stopped', pid: 0 });
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(existsSync(join(root, id))).toBe(false);
  });

  it('a creating state whose init lives: delete --force kills the init and cleans up', async () => {
    const id = uid();
    const { spawn } = await import('node:child_process');
    const orphan = spawn('sleep', ['100'], { stdio: 'ignore' });
    await until(() => existsSync(`/proc/${orphan.pid}/stat`), 2000, 'sleep');
    const stat = readFileSync(`/proc/${orphan.pid}/stat`, 'utf8');
    const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    mkdirSync(join(root, id));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, id, 'state.json'), JSON.stringify({ ociVersion: '1.2.0', id, pid: orphan.pid, initStartTime: startTime, bundle: '/x', rootfs: '/x/rootfs', created: '', owner: '', creating: true }));
    expect(state(root, id).status).toBe('creating');
    const exited = new Promise((r) => orphan.on('exit', (_c, sig) => r(sig)));
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(join(root, id))).toBe(false);
  });
});

describe.skipIf(!isRoot)('a state.json left empty or cut short (a power loss on a disk-backed --root)', () => {
  it.each([
    ['empty', '', 'empty file'],
    ['cut short', '{"ociVersion":"1.2.0","id":"x","pid":', ''],
    ['not an object', 'null', 'not a JSON object'],
  ])('%s: the verbs name the file, list lists the rest, delete --force removes the directory', (_, text, why) => {
    const id = uid();
    const good = uid();
    expect(rt(root, ['create', '--bundle', makeBundle(['sleep', '100']), good]).code).toBe(0);
    // What such a boot leaves: the directory and its files, nothing running.
    const file = join(root, id, 'state.json');
    mkdirSync(join(root, id));
    writeFileSync(file, text);
    for (const args of [['state', id], ['kill', id, 'KILL'], ['delete', id]]) {
      const r = rt(root, args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain(`cannot read the state of container ${id}: ${file}: ${why}`);
    }
    const list = rt(root, ['list', '-q']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toContain(good);
    expect(list.stdout.split('\n')).not.toContain(id);
    expect(list.stderr).toContain(`cannot read the state of container ${id}: ${file}`);
    const del = rt(root, ['delete', '--force', id]);
    expect(del.code).toBe(0);
    expect(del.stderr).toContain('removed its directory');
    expect(existsSync(join(root, id))).toBe(false);
    expect(state(root, good).status).toBe('created');
    expect(rt(root, ['delete', '--force', good]).code).toBe(0);
  });
});

describe.skipIf(!isRoot)('the state a container leaves', () => {
  // state.json is what every verb parses: the config (with an engine's seccomp
  // profile, 10-20 kB) is apart, in config.json, read by exec alone.
  /** A running container whose config sets FROM_CONFIG=value and has a poststop hook that writes to `mark`. */
  function runWithDefaults(value: string): { id: string; mark: string } {
    const id = uid();
    const mark = join(mkdtempSync(join(tmpdir(), 'tsrunc-poststop-')), 'ran');
    const bundle = makeBundle(['sleep', '100'], (c) => {
      c.process.env.push(`FROM_CONFIG=${value}`);
      c.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop > ${mark}`] }] };
    });
    expect(rt(root, ['run', '-d', '--bundle', bundle, id]).code).toBe(0);
    return { id, mark };
  }

  it('state.json holds no config; exec takes its defaults from config.json, and delete its poststop hook from the state', () => {
    const { id, mark } = runWithDefaults('yes');
    const stored = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
    expect(stored.config).toBeUndefined();
    expect(stored.hooks.poststop).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(root, id, 'config.json'), 'utf8')).process.env).toContain('FROM_CONFIG=yes');
    expect(rt(root, ['exec', id, 'sh', '-c', 'echo $FROM_CONFIG']).stdout).toBe('yes\n');
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
    expect(readFileSync(mark, 'utf8')).toBe('poststop\n');
    expect(existsSync(join(root, id))).toBe(false);
  });

  it('a state written before config.json (the config inline) still gives exec its defaults and delete its hooks', () => {
    const { id, mark } = runWithDefaults('inline');
    // As the earlier layout wrote it: the whole config in state.json, no hooks of its own.
    const dir = join(root, id);
    const old = { ...JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')), config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) };
    delete old.hooks;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(old));
    rmSync(join(dir, 'config.json'));
    expect(state(root, id).status).toBe('running');
    expect(rt(root, ['exec', id, 'sh', '-c', 'echo $FROM_CONFIG']).stdout).toBe('inline\n');
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
    expect(readFileSync(mark, 'utf8')).toBe('poststop\n');
  });
});

describe.skipIf(!isRoot)('start under an engine that reaps at once', () => {
  it('start succeeds for a container that exits (and is reaped) right away', async () => {
    const { spawnSync } = await import('node:child_process');
    const { runtime } = await import('./lib/harness.ts');
    // Like conmon and containerd's shim: a subreaper that reaps every child
    // the moment it exits, while create and start run.
    const script = `
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
def reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0: pass
    except ChildProcessError: pass
signal.signal(signal.SIGCHLD, reap)
rt, root, bundle = sys.argv[1:4]
bad = 0
for i in range(30):
    cid = "reaped-%d-%d" % (os.getpid(), i)
    subprocess.run([rt, "--root", root, "create", "-b", bundle, cid], check=True, stdout=subprocess.DEVNULL)
    r = subprocess.run([rt, "--root", root, "start", cid], capture_output=True, text=True)
    if r.returncode != 0: bad += 1; print(r.stderr.strip())
    subprocess.run([rt, "--root", root, "delete", "--force", cid], stdout=subprocess.DEVNULL)
print("failed", bad)
`;
    const r = spawnSync('python3', ['-c', script, runtime, root, makeBundle(['true'])], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout.trim().split('\n').pop()).toBe('failed 0');
  }, 120_000);
});
