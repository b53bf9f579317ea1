// containerd 1.6 (Debian 12), driven with ctr: each container's runc shim is
// handed the runtime under test (ctr run --runc-binary, --runc-root). ctr has
// no flag for some rows of the matrix (user, hostname, pids limit, a default
// network, a stop verb): those rows are n/a here, and stop is kill TERM/KILL.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, Containerd } from './lib/engines.ts';
import {
  type Result,
  RUNTIME,
  cgroupDirs,
  hostCgroupFile,
  isAlive,
  onPty,
  processesMentioning,
  show,
  skipReason,
  sleep,
  uname,
  until,
} from './lib/env.ts';

const skip = skipReason('containerd', [BIN.containerd, BIN.ctr, BIN.shim, BIN.nsenter]);
const CAP = { CHOWN: 0, SYS_ADMIN: 21 };
const hasCap = (capEff: string, bit: number) => (BigInt(`0x${capEff}`) >> BigInt(bit)) & 1n;
const capEff = (out: string) => {
  const m = out.match(/CapEff:\s*([0-9a-f]+)/);
  if (!m) throw new Error(`no CapEff line in the container's output: ${JSON.stringify(out)}`);
  return m[1];
};

describe.skipIf(skip !== null)(skip ? `containerd (skipped: ${skip})` : `containerd with ${RUNTIME.name}`, () => {
  // nothing happens before start(): a skipped suite only lists its tests
  const E = new Containerd();
  let stopped = false;
  beforeAll(async () => {
    await E.start(inject('engineImages'));
  }, 180_000);
  afterAll(async () => {
    if (!stopped) await E.stop();
  }, 180_000);

  const IMG = E.image;
  const cli = (args: string[], o?: Parameters<Containerd['cli']>[1]) => E.cli(args, o);
  const ok = (r: Result) => {
    expect(r.code, show(r)).toBe(0);
    return r;
  };
  /** ctr run --rm with the runtime under test */
  const runRm = (args: string[], cmd: string[], o?: Parameters<Containerd['cli']>[1]) =>
    cli(['run', '--rm', ...E.runFlags(), ...args, IMG, uname('ctr'), ...cmd], o);
  const pty = (args: string[], keys = '', delay = 1) => onPty(E.argv(args), keys, 60_000, delay, E.dir);
  const execId = () => uname('x');
  const taskStatus = async (id: string) => {
    const line = ok(await cli(['task', 'ls'])).stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
    return line?.split(/\s+/)[2];
  };
  const taskPid = async (id: string) => Number(ok(await cli(['task', 'ls'])).stdout.split('\n').find((l) => l.split(/\s+/)[0] === id)!.split(/\s+/)[1]);
  const waitStopped = (id: string) => until(async () => (await taskStatus(id)) === 'STOPPED', 20_000, `task ${id} to stop`);
  /** deletes a stopped task; its exit status is only in ctr's warning */
  const deleteTask = async (id: string) => {
    const r = ok(await cli(['task', 'delete', id]));
    const m = r.stderr.match(/exit with non-zero exit code (\d+)/);
    return m ? Number(m[1]) : 0;
  };
  const removeAll = async (id: string) => {
    await cli(['task', 'kill', '-s', 'SIGKILL', id]);
    await until(async () => {
      const r = await cli(['task', 'delete', id]);
      return r.code === 0 || /not found/.test(r.stderr);
    }, 10_000, `task ${id} deleted`).catch(() => {});
    await cli(['container', 'delete', id]);
  };
  const withTask = async (args: string[], cmd: string[], body: (id: string) => Promise<void>) => {
    const id = uname('ctr');
    try {
      ok(await cli(['run', '-d', ...E.runFlags(), ...args, IMG, id, ...cmd]));
      await body(id);
    } finally {
      await removeAll(id);
    }
  };
  const exec = (id: string, args: string[], cmd: string[], o?: Parameters<Containerd['cli']>[1]) =>
    cli(['task', 'exec', '--fifo-dir', join(E.dir, 'fifo'), '--exec-id', execId(), ...args, id, ...cmd], o);
  const SLEEPER = ['sleep', '1000'];

  // ------------------------------------------------------------ run

  it('[exit-code] run: the container\'s exit status is ctr\'s', async () => {
    ok(await runRm([], ['true']));
    const r = await runRm([], ['sh', '-c', 'exit 3']);
    expect(r.code, show(r)).toBe(3);
  });

  it('[missing-command] run: a command not in the image fails with "no such file or directory"', async () => {
    const r = await runRm([], ['/no/such/command']);
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stderr, show(r)).toMatch(/no such file or directory|not found/i);
  });

  it('[stdio] run: stdout and stderr arrive apart', async () => {
    const r = ok(await runRm([], ['sh', '-c', 'echo to-out; echo to-err >&2']));
    expect(r.stdout).toContain('to-out');
    expect(r.stdout).not.toContain('to-err');
    expect(r.stderr).toContain('to-err');
  });

  // ctr 1.6 never closes the task's stdin when its own reaches EOF (no CloseIO
  // without -t), so unlike docker/podman the test cannot wait for EOF.
  it('[stdin] run: the caller\'s stdin reaches the container', async () => {
    const r = ok(await runRm([], ['sh', '-c', 'read a; read b; echo "got $a+$b"'], { input: 'one\ntwo\nthe rest\n' }));
    expect(r.stdout).toBe('got one+two\n');
  });

  it('[tty] run -t: a terminal of the caller\'s size', async () => {
    const r = await pty(['run', '--rm', '-t', ...E.runFlags(), IMG, uname('ctr'), 'sh', '-c', 'sleep 1; tty; stty size; [ -t 0 ] && [ -t 1 ] && echo both-ttys']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/(pts\/\d+|console)/);
    expect(r.stdout).toContain('30 100');
    expect(r.stdout).toContain('both-ttys');
  });

  it('[tty] run -t: an interactive shell reads what is typed and exits with its status', async () => {
    const r = await pty(['run', '--rm', '-t', ...E.runFlags(), IMG, uname('ctr'), 'sh'], 'echo typed-$((6*7))\\rexit 5\\r', 2);
    expect(r.stdout, show(r)).toContain('typed-42');
    expect(r.code, show(r)).toBe(5);
  });

  it('[env] run --env: the environment, with PATH', async () => {
    const env = ok(await runRm(['--env', 'FOO=bar', '--env', 'SPACED=a b'], ['env'])).stdout.split('\n');
    expect(env).toContain('FOO=bar');
    expect(env).toContain('SPACED=a b');
    expect(env.some((l) => l.startsWith('PATH=/'))).toBe(true);
  });

  it('[workdir] run --cwd: the working directory, made by the runtime when missing', async () => {
    expect(ok(await runRm(['--cwd', '/tmp'], ['pwd'])).stdout.trim()).toBe('/tmp');
    expect(ok(await runRm(['--cwd', '/not/yet/there'], ['pwd'])).stdout.trim()).toBe('/not/yet/there');
  });

  it('[read-only] run --read-only: the rootfs refuses writes; a tmpfs mount on it does not', async () => {
    const r = ok(await runRm(['--read-only', '--mount', 'type=tmpfs,src=tmpfs,dst=/scratch,options=rw'], ['sh', '-c', 'touch /x || echo refused; touch /scratch/y && echo tmpfs-ok']));
    expect(r.stdout).toContain('refused');
    expect(r.stderr).toMatch(/read-only file system/i);
    expect(r.stdout).toContain('tmpfs-ok');
  });

  it('[tmpfs] run --mount type=tmpfs: a tmpfs with the options asked for', async () => {
    const r = ok(await runRm(['--mount', 'type=tmpfs,src=tmpfs,dst=/scratch,options=size=1m:mode=1777'], ['sh', '-c', 'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo hi > /scratch/f && cat /scratch/f']));
    expect(r.stdout).toMatch(/^tmpfs \/scratch tmpfs \S*size=1024k/m);
    expect(r.stdout, `the tmpfs root has mode=1777: ${r.stdout}`).toMatch(/^1777$/m);
    expect(r.stdout).toMatch(/^hi$/m);
  });

  it('[bind] run --mount type=bind: read-write and read-only', async () => {
    const host = join(E.dir, `vol-${uname('v')}`);
    mkdirSync(host);
    writeFileSync(join(host, 'in'), 'from-host\n');
    const r = ok(await runRm(['--mount', `type=bind,src=${host},dst=/data,options=rbind:rw`], ['sh', '-c', 'cat /data/in; echo from-container > /data/out']));
    expect(r.stdout).toContain('from-host');
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('from-container\n');
    const ro = await runRm(['--mount', `type=bind,src=${host},dst=/data,options=rbind:ro`], ['sh', '-c', 'cat /data/in; echo x > /data/out2']);
    expect(ro.code, show(ro)).not.toBe(0);
    expect(ro.stdout).toContain('from-host');
    expect(ro.stderr).toMatch(/read-only file system/i);
    expect(existsSync(join(host, 'out2'))).toBe(false);
  });

  // ------------------------------------------------------------ a running task

  it('[detached] run -d: the task runs, listed, its init alive', async () => {
    await withTask([], SLEEPER, async (id) => {
      expect(await taskStatus(id)).toBe('RUNNING');
      const pid = await taskPid(id);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
      expect(ok(await cli(['container', 'ls', '-q'])).stdout.split('\n')).toContain(id);
    });
  });

  it('[exec] task exec: output, exit status, --cwd/--user, stdin, inside the pid namespace', async () => {
    await withTask([], SLEEPER, async (id) => {
      expect(ok(await exec(id, [], ['echo', 'hi'])).stdout).toBe('hi\n');
      const four = await exec(id, [], ['sh', '-c', 'exit 4']);
      expect(four.code, show(four)).toBe(4);
      const r = ok(await exec(id, ['--cwd', '/tmp', '--user', '1000'], ['sh', '-c', 'id -u; pwd']));
      expect(r.stdout).toBe('1000\n/tmp\n');
      expect(ok(await exec(id, [], ['head', '-n', '1'], { input: 'piped in\n' })).stdout).toBe('piped in\n');
      expect(ok(await exec(id, [], ['cat', '/proc/1/cmdline'])).stdout).toBe('sleep\u00001000\u0000');
    });
  });

  it('[exec] task exec -d: a detached process in the task', async () => {
    await withTask([], SLEEPER, async (id) => {
      ok(await exec(id, ['-d'], ['sh', '-c', 'echo done > /tmp/marker; sleep 1000']));
      await until(async () => (await exec(id, [], ['cat', '/tmp/marker'])).stdout === 'done\n', 10_000, 'the detached exec');
    });
  });

  it('[exec-tty] task exec -t: a terminal of the caller\'s size', async () => {
    await withTask([], SLEEPER, async (id) => {
      const r = await pty(['task', 'exec', '-t', '--fifo-dir', join(E.dir, 'fifo'), '--exec-id', execId(), id, 'sh', '-c', 'sleep 1; tty; stty size']);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(r.stdout).toContain('30 100');
    });
  });

  it('[exec-tty] task exec -t: an interactive shell', async () => {
    await withTask([], SLEEPER, async (id) => {
      const r = await pty(['task', 'exec', '-t', '--fifo-dir', join(E.dir, 'fifo'), '--exec-id', execId(), id, 'sh'], 'echo typed-$((6*7))\\rexit 6\\r', 2);
      expect(r.stdout, show(r)).toContain('typed-42');
      expect(r.code, show(r)).toBe(6);
    });
  });

  it('[logs] run -d --log-uri file://: what the task wrote', async () => {
    const log = join(E.dir, `${uname('log')}.log`);
    await withTask(['--log-uri', `file://${log}`], ['sh', '-c', 'echo line-1; echo line-2 >&2; sleep 1000'], async () => {
      await until(() => existsSync(log) && /line-1/.test(readFileSync(log, 'utf8')) && /line-2/.test(readFileSync(log, 'utf8')), 15_000, 'both lines in the log');
    });
  });

  it('[top] task ps: the task\'s processes (the runtime\'s ps), an exec\'d one included', async () => {
    await withTask([], SLEEPER, async (id) => {
      const init = await taskPid(id);
      ok(await exec(id, ['-d'], ['sleep', '777']));
      await until(async () => {
        const pids = ok(await cli(['task', 'ps', id])).stdout.split('\n').slice(1).map((l) => Number(l.split(/\s+/)[0])).filter(Boolean);
        return pids.includes(init) && pids.some((p) => p !== init && existsSync(`/proc/${p}`) && readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u0000777\u0000');
      }, 10_000, 'init and sleep 777 in task ps');
    });
  });

  it('[stop-term] task kill -s SIGTERM: a task that obeys exits with its status', async () => {
    await withTask([], ['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done'], async (id) => {
      await sleep(300);
      ok(await cli(['task', 'kill', '-s', 'SIGTERM', id]));
      await waitStopped(id);
      expect(await deleteTask(id)).toBe(42);
    });
  });

  it('[stop-kill] task kill: SIGTERM ignored by pid 1, SIGKILL is not', async () => {
    await withTask([], SLEEPER, async (id) => {
      ok(await cli(['task', 'kill', '-s', 'SIGTERM', id]));
      await sleep(1500);
      expect(await taskStatus(id)).toBe('RUNNING');
      ok(await cli(['task', 'kill', '-s', 'SIGKILL', id]));
      await waitStopped(id);
      expect(await deleteTask(id)).toBe(137);
    });
  });

  it('[kill] task kill: by name, and --all reaches every process', async () => {
    await withTask([], ['sh', '-c', 'trap "exit 5" HUP; while :; do sleep 0.1; done'], async (id) => {
      await sleep(300);
      ok(await cli(['task', 'kill', '-s', 'SIGHUP', id]));
      await waitStopped(id);
      expect(await deleteTask(id)).toBe(5);
    });
    await withTask([], SLEEPER, async (id) => {
      ok(await exec(id, ['-d'], ['sleep', '777']));
      await sleep(300);
      const pids = ok(await cli(['task', 'ps', id])).stdout.split('\n').slice(1).map((l) => Number(l.split(/\s+/)[0])).filter(Boolean);
      expect(pids.length).toBe(2);
      ok(await cli(['task', 'kill', '--all', '-s', 'SIGKILL', id]));
      await waitStopped(id);
      await until(() => pids.every((p) => !isAlive(p)), 5000, 'every process to be gone');
    });
  });

  it('[rm] task delete: refused while running, --force kills; container delete', async () => {
    const id = uname('ctr');
    try {
      ok(await cli(['run', '-d', ...E.runFlags(), IMG, id, ...SLEEPER]));
      const pid = await taskPid(id);
      const r = await cli(['task', 'delete', id]);
      expect(r.code, show(r)).not.toBe(0);
      expect(isAlive(pid)).toBe(true);
      ok(await cli(['task', 'delete', '--force', id]));
      await until(() => !isAlive(pid), 5000, 'init to be gone');
      ok(await cli(['container', 'delete', id]));
      expect(ok(await cli(['container', 'ls', '-q'])).stdout.split('\n')).not.toContain(id);
    } finally {
      await removeAll(id);
    }
  });

  it('[pause] task pause/resume: frozen, reported paused, then running again', async () => {
    await withTask([], SLEEPER, async (id) => {
      const pid = await taskPid(id);
      ok(await cli(['task', 'pause', id]));
      expect(await taskStatus(id)).toBe('PAUSED');
      expect(hostCgroupFile(pid, 'freezer', 'freezer.state')).toBe('FROZEN');
      ok(await cli(['task', 'resume', id]));
      expect(await taskStatus(id)).toBe('RUNNING');
      expect(hostCgroupFile(pid, 'freezer', 'freezer.state')).toBe('THAWED');
      expect(ok(await exec(id, [], ['echo', 'awake'])).stdout).toBe('awake\n');
    });
  });

  // ------------------------------------------------------------ limits (ctr mounts no cgroupfs in the container)

  it('[memory] --memory-limit: in the host cgroup and in task metrics', async () => {
    await withTask(['--memory-limit', '67108864'], SLEEPER, async (id) => {
      const pid = await taskPid(id);
      expect(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe('67108864');
      expect(ok(await cli(['task', 'metrics', id])).stdout).toMatch(/^memory\.limit_in_bytes\s+67108864\s*$/m);
    });
  });

  it('[cpu] --cpus/--cpu-shares: CFS quota and shares in the host cgroup', async () => {
    await withTask(['--cpus', '0.5', '--cpu-shares', '512'], SLEEPER, async (id) => {
      const pid = await taskPid(id);
      expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
      expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_period_us')).toBe('100000');
      expect(hostCgroupFile(pid, 'cpu', 'cpu.shares')).toBe('512');
    });
  });

  // ------------------------------------------------------------ privileges

  it('[caps] --cap-add/--cap-drop: the capability sets, and what they allow', async () => {
    const base = capEff(ok(await runRm([], ['grep', 'CapEff', '/proc/self/status'])).stdout);
    expect(hasCap(base, CAP.CHOWN)).toBe(1n);
    expect(hasCap(base, CAP.SYS_ADMIN)).toBe(0n);
    const dropped = await runRm(['--cap-drop', 'CAP_CHOWN'], ['sh', '-c', 'grep CapEff /proc/self/status; touch /tmp/f; chown 1 /tmp/f']);
    expect(dropped.code, show(dropped)).not.toBe(0);
    expect(dropped.stdout, show(dropped)).toMatch(/CapEff:/);
    expect(hasCap(capEff(dropped.stdout), CAP.CHOWN)).toBe(0n);
    expect(dropped.stderr).toMatch(/operation not permitted/i);
    const added = ok(await runRm(['--cap-add', 'CAP_SYS_ADMIN'], ['sh', '-c', 'grep CapEff /proc/self/status; mkdir /tmp/m && mount -t tmpfs none /tmp/m && echo mounted']));
    expect(hasCap(capEff(added.stdout), CAP.SYS_ADMIN)).toBe(1n);
    expect(added.stdout).toContain('mounted');
  });

  it('[privileged] --privileged: the caller\'s capabilities, host devices, mount allowed', async () => {
    const host = readFileSync('/proc/self/status', 'utf8').match(/CapBnd:\s*([0-9a-f]+)/)![1];
    const r = ok(await runRm(['--privileged'], ['sh', '-c', 'grep CapEff /proc/self/status; ls /dev; mkdir /tmp/m && mount -t tmpfs none /tmp/m && echo mounted']));
    expect(capEff(r.stdout)).toBe(host);
    expect(r.stdout).toMatch(/^vda$/m);
    expect(r.stdout).toContain('mounted');
  });

  // ------------------------------------------------------------ networks

  it('[net-none] run (ctr\'s default): a network namespace with loopback only', async () => {
    const r = ok(await runRm([], ['sh', '-c', 'ip -o link; echo --; ip -o -4 addr']));
    const [links, addrs] = r.stdout.split('--\n');
    expect(links.trim().split('\n')).toEqual([expect.stringMatching(/^1: lo:/)]);
    expect(addrs, `lo is up with 127.0.0.1: ${r.stdout}`).toMatch(/inet 127\.0\.0\.1/);
  });

  // ------------------------------------------------------------ lifecycle at scale

  it('[restart] task start: a stopped container\'s task runs again', async () => {
    const id = uname('ctr');
    try {
      const first = ok(await cli(['run', ...E.runFlags(), IMG, id, 'sh', '-c', 'echo ran']));
      expect(first.stdout).toBe('ran\n');
      await cli(['task', 'delete', id]);
      const again = ok(await cli(['task', 'start', '--fifo-dir', join(E.dir, 'fifo'), id]));
      expect(again.stdout).toBe('ran\n');
    } finally {
      await removeAll(id);
    }
  });

  it('[ten-in-a-row] ten containers in a row', async () => {
    const t = Date.now();
    for (let i = 0; i < 10; i++) {
      const r = await runRm([], ['sh', '-c', `echo run-${i}`]);
      expect(r.code, `run ${i}: ${show(r)}`).toBe(0);
      expect(r.stdout).toBe(`run-${i}\n`);
    }
    console.log(`containerd/${RUNTIME.name}: ten runs in a row took ${Date.now() - t} ms`);
  });

  it('[five-at-once] five containers at once', async () => {
    const t = Date.now();
    const rs = await Promise.all([0, 1, 2, 3, 4].map((i) => runRm([], ['sh', '-c', `sleep 1; echo par-${i}`])));
    rs.forEach((r, i) => {
      expect(r.code, `run ${i}: ${show(r)}`).toBe(0);
      expect(r.stdout).toBe(`par-${i}\n`);
    });
    console.log(`containerd/${RUNTIME.name}: five runs at once took ${Date.now() - t} ms`);
  });

  it('[oom] an OOM kill is reported (a /tasks/oom event)', async () => {
    const events = join(E.dir, `${uname('events')}.log`);
    const fd = openSync(events, 'w');
    const watcher = spawn(E.argv(['events'])[0], E.argv(['events']).slice(1), { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const id = uname('ctr');
    try {
      await sleep(300);
      const r = await cli(['run', '--rm', ...E.runFlags(), '--memory-limit', '33554432', IMG, id, 'tail', '/dev/zero']);
      expect(r.code, show(r)).toBe(137);
      await until(() => readFileSync(events, 'utf8').split('\n').some((l) => l.includes('/tasks/oom') && l.includes(id)), 10_000, `a /tasks/oom event for ${id}`);
    } finally {
      watcher.kill();
      await removeAll(id);
    }
  });

  // ------------------------------------------------------------ leftovers

  it('[no-leftovers] kill, task delete, container delete leave no runtime state, cgroup, mount or process', async () => {
    const id = uname('ctr');
    try {
      ok(await cli(['run', '-d', ...E.runFlags(), '--memory-limit', '67108864', IMG, id, ...SLEEPER]));
      const pid = await taskPid(id);
      const stateDir = join(E.runtimeRoot(), id);
      const cgroups = cgroupDirs(pid);
      expect(existsSync(stateDir), `the runtime's state dir ${stateDir}`).toBe(true);
      expect(cgroups.length).toBeGreaterThan(0);
      expect(cgroups.every((d) => existsSync(d)), cgroups.join(' ')).toBe(true);
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
      expect(mounts.length, 'the task rootfs mount').toBeGreaterThan(0);
      ok(await cli(['task', 'kill', '-s', 'SIGKILL', id]));
      await waitStopped(id);
      ok(await cli(['task', 'delete', id]));
      ok(await cli(['container', 'delete', id]));
      await until(() => !isAlive(pid), 5000, 'init to be gone');
      const left = [
        ...(existsSync(stateDir) ? [`state ${stateDir}`] : []),
        ...cgroups.filter((d) => existsSync(d)).map((d) => `cgroup ${d}`),
        ...readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id)).map((l) => `mount ${l}`),
      ];
      expect(left, left.join('\n')).toEqual([]);
      // the engine's monitor (conmon, the shim) exits a moment after the container
      await until(() => processesMentioning(id).length === 0, 10_000, () => `no process mentioning ${id}; left: ${processesMentioning(id).map(([p, c]) => `${p} ${c}`).join('; ')}`);
    } finally {
      await removeAll(id);
    }
  });

  it('[no-leftovers] run --rm leaves no runtime state, cgroup or process', async () => {
    const id = uname('ctr');
    ok(await cli(['run', '--rm', ...E.runFlags(), IMG, id, 'true']));
    expect(existsSync(join(E.runtimeRoot(), id))).toBe(false);
    expect(existsSync(join('/sys/fs/cgroup/memory', E.namespace, id))).toBe(false);
    await until(() => processesMentioning(id).length === 0, 10_000, () => `no process mentioning ${id}; left: ${processesMentioning(id).map(([p, c]) => `${p} ${c}`).join('; ')}`);
    // the shim unmounts the rootfs as the task is deleted, a moment after ctr returns
    await until(() => !readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 5000, 'the rootfs to be unmounted');
  });

  it('[clean-shutdown] containerd stops with nothing left running or mounted', async () => {
    stopped = true;
    expect(await E.stop()).toEqual([]);
  }, 180_000);
});
