// Locks, waits and the exec verb's exit statuses (issue 14): no tsrunc command
// holds a container's lock while the container can keep it waiting, readers
// take none, and every wait ends; exec exits 255 when its process cannot start.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { cleanup, isRoot, makeBundle, rt, runtime, state, stateRoot, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root), 120_000);

let seq = 0;
// A tag per file as well as the pid: pids wrap within a full run (test/lib/harness.ts, uid).
const tag = Math.random().toString(36).slice(2, 6);
const uid = () => `locks-${process.pid}-${tag}${++seq}`;

const layout = isRoot ? cgroupLayout() : undefined;
/** pause needs a freezer: v1's freezer hierarchy, or v2's cgroup.freeze (kernel 5.2; tsrunc needs 5.7 anyway). */
const freezer = !!layout && (layout.unified || layout.hierarchies.some((h) => h.controllers.includes('freezer')));
const why = !isRoot ? 'needs root' : !freezer ? 'needs a cgroup freezer (v1 freezer hierarchy or v2 cgroup.freeze)' : '';

/** Far below a hang, with room for the emulated v2 guest (scripts/qemu-v2), where a command takes seconds. */
const QUICK = 15_000;

/** tsrunc in the background: its exit and output, for commands that wait. */
function background(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; pid: number } {
  const child = spawn(runtime, ['--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { done, pid: child.pid! };
}

/** Elapsed milliseconds of a tsrunc command, with its result. */
function timed(args: string[], opts: Parameters<typeof rt>[2] = {}) {
  const t0 = Date.now();
  const r = rt(root, args, { timeout: 60_000, ...opts });
  return { ...r, ms: Date.now() - t0 };
}

describe.skipIf(!!why)(`a paused container${why ? ` (skipped: ${why})` : ''}`, () => {
  it('exec --ignore-paused waits without a lock: list, state, ps and resume answer at once, and the exec completes after resume', async () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['pause', id]).code).toBe(0);
    const exec = background(['exec', '--ignore-paused', id, 'echo', 'from-exec']);
    // Its child is frozen in the container's cgroup once it has joined it; give it the time to get there.
    await new Promise((r) => setTimeout(r, 700));
    let settled = false;
    void exec.done.then(() => (settled = true));
    expect(settled).toBe(false); // still frozen, as in runc

    for (const args of [['list'], ['list', '-q'], ['state', id], ['ps', '--format', 'json', id]]) {
      const r = timed(args);
      expect(r, args.join(' ')).toMatchObject({ code: 0 });
      expect(r.ms, args.join(' ')).toBeLessThan(QUICK);
    }
    expect(JSON.parse(rt(root, ['state', id]).stdout).status).toBe('paused');
    const resume = timed(['resume', id]);
    expect(resume).toMatchObject({ code: 0, stderr: '' });
    expect(resume.ms).toBeLessThan(QUICK);
    const r = await exec.done;
    expect(r).toMatchObject({ code: 0, stdout: 'from-exec\n', stderr: '' });
    expect(state(root, id).status).toBe('running');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
  }, 240_000);

  it('delete --force while an exec waits frozen: nothing hangs, the exec fails', async () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    expect(rt(root, ['pause', id]).code).toBe(0);
    const exec = background(['exec', '--ignore-paused', id, 'echo', 'never']);
    await new Promise((r) => setTimeout(r, 700));
    const del = timed(['delete', '-f', id]);
    expect(del).toMatchObject({ code: 0, stderr: '' });
    expect(del.ms).toBeLessThan(30_000);
    const r = await exec.done;
    // Killed before its exec: an error (255), or, when its death reads as the
    // exec itself (the pipe closes either way), 128+SIGKILL.
    expect([255, 137]).toContain(r.code);
    expect(r.stdout).toBe('');
    expect(rt(root, ['list', '-q']).stdout).not.toContain(id);
  }, 240_000);

  // runc's tests/integration/update.bats, as one container: its setup (cgroupsPath,
  // memory 32M/24M, cpu shares 100 and quota 500000/1000000, pids 20, a terminal
  // through a console socket), "update cgroup v1/v2 common limits" and "update cgroup
  // cpu limits" (flags, -r -, -r FILE), "update paused container", then its teardown:
  // the console's receiver killed, `list -q`, `delete -f` of each id.
  it('update.bats: updates, pause, update --pids-limit 30, resume, then list -q and delete -f return', async () => {
    const id = uid();
    const cgroupsPath = `/locks-${process.pid}/test-cgroup-${seq}`;
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-locks-'));
    const sock = join(dir, 'console.sock');
    // recvtty --no-stdin: takes the pty master and reads it until it is killed.
    const recvtty = 'import os,socket,sys\ns=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1]);s.listen(1);print("ready",flush=True)\nc,_=s.accept();_,fds,_,_=socket.recv_fds(c,1024,1)\nwhile os.read(fds[0],4096):pass';
    const receiver = spawn('python3', ['-c', recvtty, sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => receiver.stdout.once('data', () => resolve()));
    const bundle = makeBundle(['sh'], (c) => {
      c.process.terminal = true;
      c.linux.cgroupsPath = cgroupsPath;
      c.linux.resources.memory = { limit: 33554432, reservation: 25165824 };
      c.linux.resources.cpu = { shares: 100, quota: 500000, period: 1000000 };
      c.linux.resources.pids = { limit: 20 };
    });
    try {
      expect(timed(['run', '-d', '--console-socket', sock, '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
      const json = JSON.stringify({ memory: { limit: 33554432, reservation: 25165824 }, cpu: { shares: 100, quota: 500000, period: 1000000, cpus: '0' }, pids: { limit: 20 } });
      const file = join(dir, 'r.json');
      writeFileSync(file, json);
      const steps: Array<[string[], string?]> = [
        [['--memory', '67108864']],
        [['--memory', '50M']],
        [['--memory-reservation', '33554432']],
        [['--pids-limit', '10']],
        [['--pids-limit', '-1']],
        [['-r', '-'], json],
        [['--cpu-period', '900000', '--cpu-quota', '600000', '--cpu-share', '200', '--memory', '67108864', '--memory-reservation', '33554432', '--pids-limit', '10']],
        [['-r', file]],
        [['--cpu-period', '900000']],
        [['--cpu-quota', '600000']],
        [['--cpu-quota', '-1']],
        [['--cpu-share', '200']],
        [['-r', '-'], JSON.stringify({ cpu: { shares: 100, quota: 500000, period: 1000000 } })],
      ];
      for (const [args, input] of steps) {
        const r = timed(['update', id, ...args], input === undefined ? {} : { input });
        expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      }
      expect(timed(['pause', id])).toMatchObject({ code: 0, stderr: '' });
      expect(timed(['update', '--pids-limit', '30', id])).toMatchObject({ code: 0, stderr: '' });
      expect(state(root, id).status).toBe('paused');
      expect(timed(['resume', id])).toMatchObject({ code: 0, stderr: '' });
      receiver.kill('SIGKILL');
      const list = timed(['list', '-q']);
      expect(list.code).toBe(0);
      expect(list.stdout.split('\n')).toContain(id);
      for (const each of list.stdout.split('\n').filter(Boolean)) {
        const del = timed(['delete', '-f', each]);
        expect(del, each).toMatchObject({ code: 0, stderr: '' });
        expect(del.ms, each).toBeLessThan(30_000);
      }
      expect(rt(root, ['list', '-q']).stdout).toBe('');
    } finally {
      receiver.kill('SIGKILL');
      rt(root, ['delete', '-f', id]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe.skipIf(!isRoot)('locks', () => {
  it('readers take no lock: state, list and ps answer while a writer holds the lock; writers wait for it', async () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    // A stuck writer, as the kernel sees it: someone holding the directory's flock.
    const holder = spawn('flock', ['-o', '-x', join(root, id), 'sleep', '30'], { stdio: 'ignore' }); // -o: sleep holds no copy
    try {
      await until(() => spawnSync('flock', ['-n', '-x', join(root, id), 'true']).status !== 0, 60_000, 'the lock to be held');
      for (const args of [['state', id], ['list'], ['ps', id], ['events', '--stats', id]]) {
        const r = timed(args);
        expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
        expect(r.ms, args.join(' ')).toBeLessThan(QUICK);
      }
      // A writer waits (boundedly: see LOCK_WAIT_MS) and goes on once the lock is free.
      const kill = background(['kill', id, 'KILL']);
      await new Promise((r) => setTimeout(r, 500));
      expect(state(root, id).status).toBe('running');
      holder.kill('SIGKILL');
      expect((await kill.done).code).toBe(0);
      await until(() => state(root, id).status === 'stopped', 60_000, 'stopped');
    } finally {
      holder.kill('SIGKILL');
      rt(root, ['delete', '-f', id]);
    }
  }, 240_000);

  it('a writer that waited for a directory removed and made again meanwhile says the container does not exist', async () => {
    const id = uid();
    const dir = join(root, id);
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    const holder = spawn('flock', ['-o', '-x', dir, 'sleep', '30'], { stdio: 'ignore' });
    try {
      await until(() => spawnSync('flock', ['-n', '-x', dir, 'true']).status !== 0, 60_000, 'the lock to be held');
      // kill opens the directory and waits for its lock; meanwhile the
      // directory goes away and one of the same name takes its place.
      const kill = background(['kill', id, 'KILL']);
      const opened = () => {
        try {
          return readdirSync(`/proc/${kill.pid}/fd`).some((fd) => readlinkSync(`/proc/${kill.pid}/fd/${fd}`) === dir);
        } catch {
          return false;
        }
      };
      await until(opened, 60_000, 'kill to open the directory');
      renameSync(dir, `${dir}.old`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'state.json'), readFileSync(join(`${dir}.old`, 'state.json')));
      holder.kill('SIGKILL');
      const r = await kill.done;
      expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining('container does not exist') });
      expect(state(root, id).status).toBe('running'); // no signal was sent
    } finally {
      holder.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      if (existsSync(`${dir}.old`)) renameSync(`${dir}.old`, dir);
      rt(root, ['delete', '-f', id]);
    }
  }, 240_000);

  it('delete --force of a container that does not exist exits 0, as runc; without --force it is an error', () => {
    expect(rt(root, ['delete', '--force', 'locks-never-was'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(rt(root, ['delete', '-f', 'locks-never-was'])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['delete', 'locks-never-was'])).toMatchObject({ code: 1, stderr: expect.stringContaining('container does not exist') });
  });

  it('kill: signal 0 checks a running container; kill --all ID 0 (or any signal) on a stopped one is no error, as runc', async () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    expect(rt(root, ['kill', id, '0'])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['kill', '--all', id, '0'])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['kill', id, 'KILL']).code).toBe(0);
    await until(() => state(root, id).status === 'stopped', 60_000, 'stopped');
    expect(rt(root, ['kill', '--all', id, '0'])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['kill', '--all', id, 'KILL'])).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['kill', id, '0'])).toMatchObject({ code: 1, stderr: expect.stringContaining('container not running') });
    expect(rt(root, ['kill', id, 'KILL'])).toMatchObject({ code: 1, stderr: expect.stringContaining('container not running') });
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(rt(root, ['kill', '--all', id, '0'])).toMatchObject({ code: 1, stderr: expect.stringContaining('container does not exist') });
  });
});

describe.skipIf(!isRoot)('exec exit statuses and --pid-file', () => {
  it("the process's own status passes through; a process that cannot start exits 255 with runc's 'exec failed:'", () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    try {
      expect(rt(root, ['exec', id, 'false'])).toMatchObject({ code: 1, stderr: '' });
      expect(rt(root, ['exec', id, 'sh', '-c', 'exit 42'])).toMatchObject({ code: 42, stderr: '' });
      expect(rt(root, ['exec', id, 'true'])).toMatchObject({ code: 0, stderr: '' });
      const missing = rt(root, ['exec', id, 'no-such-binary']);
      expect(missing).toMatchObject({ code: 255, stderr: expect.stringContaining('exec failed: ') });
      expect(missing.stderr).toContain('no-such-binary');
      // The pid file's directory is checked before anything runs, and named.
      const marker = join(mkdtempSync(join(tmpdir(), 'tsrunc-locks-')), 'ran');
      const pf = rt(root, ['exec', '--pid-file', '/non-existent/directory', id, 'sh', '-c', `echo > ${marker}`]);
      expect(pf).toMatchObject({ code: 255, stdout: '' });
      expect(pf.stderr).toContain('exec failed: cannot write pid file /non-existent/directory: /non-existent: no such file or directory');
      expect(pf.stderr).not.toContain('.tmp');
      expect(rt(root, ['exec', id, 'ls', marker]).code).not.toBe(0);
      expect(rt(root, ['exec', 'locks-never-was', 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('exec failed: container does not exist') });
      // What config.json may not say, the flags may not either (runc refuses both).
      expect(rt(root, ['exec', '-e', 'FOO', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('exec failed: invalid --env \\"FOO\\": must be in the form KEY=value') });
      expect(rt(root, ['exec', '--cwd', 'tmp', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('exec failed: invalid --cwd \\"tmp\\": must be an absolute path') });
      if (freezer) {
        expect(rt(root, ['pause', id]).code).toBe(0);
        expect(rt(root, ['exec', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('exec failed: cannot exec in a paused container') });
        expect(rt(root, ['resume', id]).code).toBe(0);
      }
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });

  it('exec --cgroup: a path that leaves the container\'s cgroup is refused with runc\'s words; one that cleans back into it is the container\'s own', () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    try {
      const init = state(root, id).pid;
      const own = readFileSync(`/proc/${init}/cgroup`, 'utf8');
      for (const arg of ['..', '/../..', '../..', 'a/../../..']) {
        const r = rt(root, ['exec', '--cgroup', arg, id, 'true']);
        expect(r, arg).toMatchObject({ code: 255, stderr: expect.stringContaining(`exec failed: ${arg} is not a sub cgroup path`) });
      }
      if (layout && !layout.unified) expect(rt(root, ['exec', '--cgroup', 'pids:..', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('.. is not a sub cgroup path') });
      for (const arg of ['/', 'x/..', `../${id}`]) {
        const r = rt(root, ['exec', '--cgroup', arg, id, 'cat', '/proc/self/cgroup']);
        expect(r, arg).toMatchObject({ code: 0, stderr: '' });
        // The exec'd process sees the cgroup namespace's root where init does: compare from the host.
        expect(r.stdout, arg).toBe(rt(root, ['exec', id, 'cat', '/proc/self/cgroup']).stdout);
      }
      expect(own).toBe(readFileSync(`/proc/${init}/cgroup`, 'utf8'));
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });

  it("an exec'd process is in the container's cgroup in every hierarchy (a hybrid host's cgroup2 one too, as runc)", () => {
    const id = uid();
    const cgroupsPath = `/locks-${process.pid}/exec-${seq}`;
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000'], (c) => (c.linux.cgroupsPath = cgroupsPath)), id]).code).toBe(0);
    try {
      const pidFile = join(mkdtempSync(join(tmpdir(), 'tsrunc-locks-')), 'p');
      expect(rt(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '1000'])).toMatchObject({ code: 0, stderr: '' });
      const lines = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
      const execd = lines(Number(readFileSync(pidFile, 'utf8')));
      // From the host: every line, "0::" included where a cgroup2 hierarchy is mounted, names the container's path.
      for (const l of execd) expect(l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1), l).toBe(cgroupsPath);
      if (layout?.hierarchies.some((h) => h.fstype === 'cgroup2')) expect(execd.some((l) => l.startsWith('0::'))).toBe(true);
      expect(execd).toEqual(lines(state(root, id).pid));
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });

  it('create and run --pid-file in a directory that does not exist: refused before anything runs, the path named', () => {
    const id = uid();
    const r = rt(root, ['create', '--pid-file', '/non-existent/dir/p', '-b', makeBundle(['true']), id]);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot write pid file /non-existent/dir/p: /non-existent/dir: no such file or directory') });
    expect(rt(root, ['list', '-q']).stdout).not.toContain(id);
    const r2 = rt(root, ['run', '-d', '--pid-file', '/non-existent/dir/p', '-b', makeBundle(['true']), id]);
    expect(r2).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot write pid file /non-existent/dir/p') });
    expect(rt(root, ['list', '-q']).stdout).not.toContain(id);
  });

  // runc renames a new file over whatever --pid-file names: as root, over
  // /dev/null for the whole host. tsrunc writes into a character device (as
  // crun does) and refuses a FIFO, which would block. A node of our own, not
  // /dev/null: a regression must not break the host for the tests after it.
  const nodes = mkdtempSync(join(tmpdir(), 'tsrunc-pidnode-'));
  const dev = join(nodes, 'null');
  const devUsable = isRoot && spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3']).status === 0 && spawnSync('sh', ['-c', `echo x > ${dev}`]).status === 0;
  afterAll(() => rmSync(nodes, { recursive: true, force: true }));
  it.skipIf(!devUsable)('--pid-file naming a character device is written into, not replaced; a FIFO, or a link to a device, is refused before anything runs', () => {
    const id = uid();
    try {
      expect(rt(root, ['run', '-d', '--pid-file', dev, '-b', makeBundle(['sleep', '100']), id])).toMatchObject({ code: 0, stderr: '' });
      expect(statSync(dev).isCharacterDevice()).toBe(true);
      expect(rt(root, ['exec', '-d', '--pid-file', dev, id, 'sleep', '100'])).toMatchObject({ code: 0, stderr: '' });
      expect(statSync(dev).isCharacterDevice()).toBe(true);
      const fifo = join(nodes, 'fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const other = uid();
      const r = rt(root, ['create', '--pid-file', fifo, '-b', makeBundle(['true']), other]);
      expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining(`cannot write pid file ${fifo}: not a regular file`) });
      expect(rt(root, ['list', '-q']).stdout).not.toContain(other);
      expect(statSync(fifo).isFIFO()).toBe(true);
      // A link to a device (as /dev/stdout is): neither replaced nor followed.
      const link = join(nodes, 'link');
      symlinkSync(dev, link);
      const viaLink = rt(root, ['create', '--pid-file', link, '-b', makeBundle(['true']), other]);
      expect(viaLink).toMatchObject({ code: 1, stderr: expect.stringContaining(`cannot write pid file ${link}: a symlink to what is not a regular file`) });
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });
});
