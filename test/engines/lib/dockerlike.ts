// The test matrix for the engines with a docker-style CLI: podman and docker.
// Every test name starts with the [feature] it measures; RESULTS.md is made
// from those (scripts/engines/results.mjs).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Docker, Podman } from './engines.ts';
import {
  type Images,
  type Result,
  RUNTIME,
  cgroupDirs,
  hostCgroupFile,
  isAlive,
  mountsUnder,
  onPty,
  processesMentioning,
  show,
  sleep,
  uname,
  until,
} from './env.ts';

export interface DockerLikeOptions {
  /** a new, not yet started engine */
  make: () => Podman | Docker;
  images: () => Images;
  /** what `stats --format {{.MemUsage}}` shows as the limit of --memory 64m */
  statsLimit64m: RegExp;
  /** `rm -f` without waiting for the stop timeout (podman's rm -f sends SIGTERM and waits 10 s) */
  rmForce: string[];
  /** dockerd makes a missing -w directory; podman 4.3 refuses it ("workdir does not exist") before the runtime runs */
  makesWorkdir: boolean;
  /**
   * How the engine reports an OOM kill. docker: State.OOMKilled (from the
   * containerd shim's cgroup event). podman 4.3: conmon sees the cgroup's OOM
   * event but writes its `oom` file into its working directory, while podman
   * looks for it in the bundle, so State.OOMKilled stays false whatever the
   * runtime (containers/podman#13102, fixed in podman 5.0): the test looks for
   * conmon's file instead.
   */
  oomReport: 'inspect' | 'conmon-cwd';
  /**
   * dockerd 20.10 asks for every capability the kernel knows for --privileged
   * (podman asks for the caller's bounding set): on a host whose bounding set
   * lacks one (this one lacks CAP_SYS_RESOURCE) no runtime can grant them, and
   * runc fails "unable to apply caps: operation not permitted".
   */
  privilegedAsksEveryCap: boolean;
}

/** Capabilities the kernel knows that this process's bounding set lacks. */
function missingBoundingCaps(): number[] {
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const bnd = BigInt(`0x${readFileSync('/proc/self/status', 'utf8').match(/CapBnd:\s*([0-9a-f]+)/)![1]}`);
  const missing: number[] = [];
  for (let c = 0; c <= last; c++) if (!((bnd >> BigInt(c)) & 1n)) missing.push(c);
  return missing;
}

const CAP = { CHOWN: 0, NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_ADMIN: 21 };
const hasCap = (capEff: string, bit: number) => (BigInt(`0x${capEff}`) >> BigInt(bit)) & 1n;
const capEff = (out: string) => {
  const m = out.match(/CapEff:\s*([0-9a-f]+)/);
  if (!m) throw new Error(`no CapEff line in the container's output: ${JSON.stringify(out)}`);
  return m[1];
};

export function dockerLikeTests(E: Podman | Docker, opts: DockerLikeOptions): void {
  const IMG = E.image;
  const cli = (args: string[], o?: Parameters<typeof E.cli>[1]) => E.cli(args, o);
  const ok = (r: Result) => {
    expect(r.code, show(r)).toBe(0);
    return r;
  };
  const inspect = async (name: string, fmt: string) => ok(await cli(['inspect', '-f', fmt, name])).stdout.trim();
  const detached = async (name: string, args: string[], cmd: string[]) => {
    const r = ok(await cli(['run', '-d', '--name', name, ...args, IMG, ...cmd]));
    return r.stdout.trim().split('\n').pop()!;
  };
  const pidOf = async (name: string) => Number(await inspect(name, '{{.State.Pid}}'));
  const waitExited = (name: string, ms = 20_000) =>
    until(async () => (await cli(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim() === 'exited', ms, `${name} to exit`);
  /** removes the container whatever its state, for finally blocks */
  const rmf = (name: string) => cli([...opts.rmForce, name]);
  const pty = (args: string[], keys = '', delay = 1) => onPty(E.argv(args), keys, 60_000, delay, E.dir);
  const withContainer = async (tag: string, args: string[], cmd: string[], body: (name: string, id: string) => Promise<void>) => {
    const name = uname(tag);
    try {
      const id = await detached(name, args, cmd);
      await body(name, id);
    } finally {
      await rmf(name);
    }
  };
  const SLEEPER = ['sleep', '1000'];

  // ------------------------------------------------------------ run

  it('[exit-code] run: the container\'s exit status is the CLI\'s', async () => {
    ok(await cli(['run', '--rm', IMG, 'true']));
    const r = await cli(['run', '--rm', IMG, 'sh', '-c', 'exit 3']);
    expect(r.code, show(r)).toBe(3);
  });

  it('[missing-command] run: a command not in the image exits 127 with "not found"', async () => {
    const r = await cli(['run', '--rm', IMG, '/no/such/command']);
    expect(r.code, show(r)).toBe(127);
    expect(r.stderr, show(r)).toMatch(/no such file or directory|not found/i);
  });

  it('[stdio] run: stdout and stderr arrive apart', async () => {
    const r = ok(await cli(['run', '--rm', IMG, 'sh', '-c', 'echo to-out; echo to-err >&2']));
    expect(r.stdout).toContain('to-out');
    expect(r.stdout).not.toContain('to-err');
    expect(r.stderr).toContain('to-err');
  });

  it('[stdin] run -i: the caller\'s stdin reaches the container, EOF included', async () => {
    const r = ok(await cli(['run', '--rm', '-i', IMG, 'sh', '-c', 'read a; read b; echo "got $a+$b"; wc -c'], { input: 'one\ntwo\nthe rest\n' }));
    expect(r.stdout).toMatch(/got one\+two\s+9\s*$/);
  });

  it('[stdin] run without -i: the container reads EOF at once', async () => {
    const r = ok(await cli(['run', '--rm', IMG, 'sh', '-c', 'cat; echo eof'], { input: 'not for you\n' }));
    expect(r.stdout.trim()).toBe('eof');
  });

  it('[tty] run -t: a terminal of the caller\'s size', async () => {
    const r = await pty(['run', '--rm', '-it', IMG, 'sh', '-c', 'sleep 1; tty; stty size; [ -t 0 ] && [ -t 1 ] && echo both-ttys']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/(pts\/\d+|console)/);
    expect(r.stdout).toContain('30 100');
    expect(r.stdout).toContain('both-ttys');
  });

  it('[tty] run -it: an interactive shell reads what is typed and exits with its status', async () => {
    const r = await pty(['run', '--rm', '-it', IMG, 'sh'], 'echo typed-$((6*7))\\rexit 5\\r', 2);
    expect(r.stdout, show(r)).toContain('typed-42');
    expect(r.code, show(r)).toBe(5);
  });

  it('[env] run -e: the environment, with PATH and HOSTNAME', async () => {
    const r = ok(await cli(['run', '--rm', '-e', 'FOO=bar', '-e', 'SPACED=a b', '--hostname', 'envbox', IMG, 'env']));
    const env = r.stdout.split('\n');
    expect(env).toContain('FOO=bar');
    expect(env).toContain('SPACED=a b');
    expect(env).toContain('HOSTNAME=envbox');
    expect(env.some((l) => l.startsWith('PATH=/'))).toBe(true);
  });

  it(`[workdir] run -w: the working directory${opts.makesWorkdir ? ', made when missing' : ''}`, async () => {
    expect(ok(await cli(['run', '--rm', '-w', '/tmp', IMG, 'pwd'])).stdout.trim()).toBe('/tmp');
    if (opts.makesWorkdir) expect(ok(await cli(['run', '--rm', '-w', '/not/yet/there', IMG, 'pwd'])).stdout.trim()).toBe('/not/yet/there');
  });

  it('[user] run -u: uid, gid, supplementary groups, and a name from /etc/passwd', async () => {
    const r = ok(await cli(['run', '--rm', '-u', '1000:1001', '--group-add', '1234', IMG, 'sh', '-c', 'id; grep CapEff /proc/self/status']));
    expect(r.stdout).toMatch(/^uid=1000\b.* gid=1001\b.* groups=.*\b1234\b/m);
    expect(capEff(r.stdout)).toBe('0000000000000000');
    expect(ok(await cli(['run', '--rm', '-u', 'nobody', IMG, 'id'])).stdout).toMatch(/uid=65534\(nobody\) gid=65534\(nogroup\)/);
  });

  it('[read-only] run --read-only: the rootfs refuses writes; a --tmpfs on it does not', async () => {
    const r = ok(await cli(['run', '--rm', '--read-only', '--tmpfs', '/scratch', IMG, 'sh', '-c', 'touch /x || echo refused; touch /scratch/y && echo tmpfs-ok']));
    expect(r.stdout).toContain('refused');
    expect(r.stderr).toMatch(/read-only file system/i);
    expect(r.stdout).toContain('tmpfs-ok');
  });

  it('[tmpfs] run --tmpfs: a tmpfs with the options asked for', async () => {
    const r = ok(await cli(['run', '--rm', '--tmpfs', '/scratch:size=1m,mode=1777', IMG, 'sh', '-c', 'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo hi > /scratch/f && cat /scratch/f']));
    expect(r.stdout).toMatch(/^tmpfs \/scratch tmpfs \S*size=1024k/m);
    expect(r.stdout, `the tmpfs root has mode=1777: ${r.stdout}`).toMatch(/^1777$/m);
    expect(r.stdout).toMatch(/^hi$/m);
  });

  it('[bind] run -v: a bind volume, read-write and read-only', async () => {
    const host = join(E.dir, `vol-${uname('v')}`);
    mkdirSync(host);
    writeFileSync(join(host, 'in'), 'from-host\n');
    const r = ok(await cli(['run', '--rm', '-v', `${host}:/data`, IMG, 'sh', '-c', 'cat /data/in; echo from-container > /data/out']));
    expect(r.stdout).toContain('from-host');
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('from-container\n');
    const ro = await cli(['run', '--rm', '-v', `${host}:/data:ro`, IMG, 'sh', '-c', 'cat /data/in; echo x > /data/out2']);
    expect(ro.code, show(ro)).not.toBe(0);
    expect(ro.stdout).toContain('from-host');
    expect(ro.stderr).toMatch(/read-only file system/i);
    expect(existsSync(join(host, 'out2'))).toBe(false);
  });

  it('[hostname] run --hostname: the UTS name', async () => {
    expect(ok(await cli(['run', '--rm', '--hostname', 'box-1', IMG, 'hostname'])).stdout.trim()).toBe('box-1');
  });

  // ------------------------------------------------------------ a running container

  it('[detached] run -d: running, listed, its init alive', async () => {
    await withContainer('det', [], SLEEPER, async (name) => {
      expect(await inspect(name, '{{.State.Status}} {{.State.Running}}')).toBe('running true');
      const pid = await pidOf(name);
      expect(isAlive(pid)).toBe(true);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
      expect(ok(await cli(['ps', '--format', '{{.Names}}'])).stdout.split('\n')).toContain(name);
    });
  });

  it('[exec] exec: output, exit status, -u/-w/-e, -i, inside the container\'s pid namespace', async () => {
    await withContainer('exec', [], SLEEPER, async (name) => {
      expect(ok(await cli(['exec', name, 'echo', 'hi'])).stdout).toBe('hi\n');
      const four = await cli(['exec', name, 'sh', '-c', 'exit 4']);
      expect(four.code, show(four)).toBe(4);
      const r = ok(await cli(['exec', '-u', '1000', '-w', '/tmp', '-e', 'X=y', name, 'sh', '-c', 'id -u; pwd; echo $X']));
      expect(r.stdout).toBe('1000\n/tmp\ny\n');
      expect(ok(await cli(['exec', '-i', name, 'cat'], { input: 'piped in\n' })).stdout).toBe('piped in\n');
      expect(ok(await cli(['exec', name, 'cat', '/proc/1/cmdline'])).stdout).toBe('sleep\u00001000\u0000');
    });
  });

  it('[exec] exec -d: a detached process in the container', async () => {
    await withContainer('execd', [], SLEEPER, async (name) => {
      ok(await cli(['exec', '-d', name, 'sh', '-c', 'echo done > /tmp/marker; sleep 1000']));
      await until(async () => (await cli(['exec', name, 'cat', '/tmp/marker'])).stdout === 'done\n', 10_000, 'the detached exec');
    });
  });

  it('[exec-tty] exec -t: a terminal of the caller\'s size', async () => {
    await withContainer('exectty', [], SLEEPER, async (name) => {
      const r = await pty(['exec', '-it', name, 'sh', '-c', 'sleep 1; tty; stty size']);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(r.stdout).toContain('30 100');
    });
  });

  it('[exec-tty] exec -it: an interactive shell', async () => {
    await withContainer('execsh', [], SLEEPER, async (name) => {
      const r = await pty(['exec', '-it', name, 'sh'], 'echo typed-$((6*7))\\rexit 6\\r', 2);
      expect(r.stdout, show(r)).toContain('typed-42');
      expect(r.code, show(r)).toBe(6);
    });
  });

  it('[logs] logs: what the container wrote to stdout and stderr', async () => {
    await withContainer('logs', [], ['sh', '-c', 'echo line-1; echo line-2 >&2; sleep 1000'], async (name) => {
      const r = await until(async () => {
        const l = await cli(['logs', name]);
        return l.stdout.includes('line-1') && (l.stdout + l.stderr).includes('line-2') && l;
      }, 15_000, 'both lines in the logs');
      expect(r.stdout).not.toContain('line-2');
    });
  });

  it('[top] top: the container\'s processes, an exec\'d one included', async () => {
    await withContainer('top', [], SLEEPER, async (name) => {
      ok(await cli(['exec', '-d', name, 'sleep', '777']));
      const r = await until(async () => {
        const t = await cli(['top', name]);
        return t.stdout.includes('sleep 777') && t;
      }, 10_000, 'sleep 777 in top');
      expect(r.stdout).toContain('sleep 1000');
    });
  });

  it('[stop-term] stop: SIGTERM first, and a container that obeys stops at once with its status', async () => {
    await withContainer('stopt', [], ['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done'], async (name) => {
      await sleep(300); // let the shell install its trap
      const t = Date.now();
      ok(await cli(['stop', '-t', '30', name]));
      expect(Date.now() - t).toBeLessThan(10_000);
      expect(await inspect(name, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 42');
    });
  });

  it('[stop-kill] stop -t: SIGKILL when SIGTERM is ignored', async () => {
    // pid 1 without a handler ignores SIGTERM
    await withContainer('stopk', [], SLEEPER, async (name) => {
      const t = Date.now();
      ok(await cli(['stop', '-t', '2', name]));
      const took = Date.now() - t;
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(15_000);
      expect(await inspect(name, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 137');
    });
  });

  it('[kill] kill: SIGKILL by default, -s SIGNAL by name', async () => {
    await withContainer('killh', [], ['sh', '-c', 'trap "echo got-hup; exit 5" HUP; while :; do sleep 0.1; done'], async (name) => {
      await sleep(300);
      ok(await cli(['kill', '-s', 'HUP', name]));
      await waitExited(name);
      expect(await inspect(name, '{{.State.ExitCode}}')).toBe('5');
      expect(ok(await cli(['logs', name])).stdout).toContain('got-hup');
    });
    await withContainer('killk', [], SLEEPER, async (name) => {
      ok(await cli(['kill', name]));
      await waitExited(name);
      expect(await inspect(name, '{{.State.ExitCode}}')).toBe('137');
    });
  });

  it('[rm] rm: a stopped container goes; a running one only with -f', async () => {
    const name = uname('rm');
    try {
      ok(await cli(['run', '--name', name, IMG, 'true']));
      ok(await cli(['rm', name]));
      expect((await cli(['inspect', name])).code).not.toBe(0);
      await detached(name, [], SLEEPER);
      const pid = await pidOf(name);
      const r = await cli(['rm', name]);
      expect(r.code, show(r)).not.toBe(0);
      expect(isAlive(pid)).toBe(true);
      ok(await cli([...opts.rmForce, name]));
      expect((await cli(['inspect', name])).code).not.toBe(0);
      await until(() => !isAlive(pid), 5000, 'the container\'s init to be gone');
    } finally {
      await rmf(name);
    }
  });

  it('[pause] pause/unpause: frozen, reported paused, then running again', async () => {
    await withContainer('pause', [], SLEEPER, async (name) => {
      const pid = await pidOf(name);
      ok(await cli(['pause', name]));
      expect(await inspect(name, '{{.State.Status}} {{.State.Paused}}')).toBe('paused true');
      expect(hostCgroupFile(pid, 'freezer', 'freezer.state')).toBe('FROZEN');
      ok(await cli(['unpause', name]));
      expect(await inspect(name, '{{.State.Status}} {{.State.Paused}}')).toBe('running false');
      expect(hostCgroupFile(pid, 'freezer', 'freezer.state')).toBe('THAWED');
      expect(ok(await cli(['exec', name, 'echo', 'awake'])).stdout).toBe('awake\n');
    });
  });

  // ------------------------------------------------------------ limits

  it('[memory] --memory: the limit in the container, in its host cgroup, in inspect and stats', async () => {
    await withContainer('mem', ['--memory', '64m'], SLEEPER, async (name) => {
      const pid = await pidOf(name);
      expect(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe('67108864');
      expect(ok(await cli(['exec', name, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim()).toBe('67108864');
      expect(await inspect(name, '{{.HostConfig.Memory}}')).toBe('67108864');
      const stats = ok(await cli(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]));
      expect(stats.stdout).toMatch(opts.statsLimit64m);
    });
  });

  it('[cpu] --cpus/--cpu-shares: CFS quota and shares in the container and its host cgroup', async () => {
    await withContainer('cpu', ['--cpus', '0.5', '--cpu-shares', '512'], SLEEPER, async (name) => {
      const pid = await pidOf(name);
      expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
      expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_period_us')).toBe('100000');
      expect(hostCgroupFile(pid, 'cpu', 'cpu.shares')).toBe('512');
      const inside = ok(await cli(['exec', name, 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/cpu/cpu.shares']));
      expect(inside.stdout).toBe('50000\n512\n');
      expect(await inspect(name, '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}')).toBe('500000000 512');
    });
  });

  it('[pids] --pids-limit: pids.max in the container and its host cgroup; forks past it fail', async () => {
    await withContainer('pids', ['--pids-limit', '20'], SLEEPER, async (name) => {
      const pid = await pidOf(name);
      expect(hostCgroupFile(pid, 'pids', 'pids.max')).toBe('20');
      expect(ok(await cli(['exec', name, 'cat', '/sys/fs/cgroup/pids/pids.max'])).stdout.trim()).toBe('20');
      expect(await inspect(name, '{{.HostConfig.PidsLimit}}')).toBe('20');
      const r = await cli(['exec', name, 'sh', '-c', 'for i in $(seq 30); do sleep 5 & done 2>&1; wait']);
      expect(r.stdout + r.stderr).toMatch(/can't fork|resource temporarily unavailable/i);
    });
  });

  it('[update] update: new memory and CPU limits reach the running container\'s cgroup', async () => {
    await withContainer('update', ['--memory', '64m', '--cpus', '0.5'], SLEEPER, async (name) => {
      const pid = await pidOf(name);
      ok(await cli(['update', '--memory', '48m', '--cpus', '1.5', name]));
      expect(hostCgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe('50331648');
      expect(hostCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('150000');
      expect(ok(await cli(['exec', name, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim()).toBe('50331648');
    });
  });

  // ------------------------------------------------------------ privileges

  it('[caps] --cap-add/--cap-drop: the capability sets, and what they allow', async () => {
    const base = capEff(ok(await cli(['run', '--rm', IMG, 'grep', 'CapEff', '/proc/self/status'])).stdout);
    expect(hasCap(base, CAP.CHOWN)).toBe(1n);
    expect(hasCap(base, CAP.SYS_ADMIN)).toBe(0n);
    const dropped = await cli(['run', '--rm', '--cap-drop', 'CHOWN', IMG, 'sh', '-c', 'grep CapEff /proc/self/status; touch /tmp/f; chown 1 /tmp/f']);
    expect(dropped.code, show(dropped)).not.toBe(0);
    expect(dropped.stdout, show(dropped)).toMatch(/CapEff:/);
    expect(hasCap(capEff(dropped.stdout), CAP.CHOWN)).toBe(0n);
    expect(dropped.stderr).toMatch(/operation not permitted/i);
    const added = ok(await cli(['run', '--rm', '--cap-add', 'SYS_ADMIN', IMG, 'sh', '-c', 'grep CapEff /proc/self/status; mkdir /tmp/m && mount -t tmpfs none /tmp/m && echo mounted']));
    expect(hasCap(capEff(added.stdout), CAP.SYS_ADMIN)).toBe(1n);
    expect(added.stdout).toContain('mounted');
    const only = ok(await cli(['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', IMG, 'sh', '-c', 'grep -E "Cap(Eff|Prm|Bnd)" /proc/self/status']));
    expect(only.stdout).toMatch(/CapPrm:\s*0000000000000400\s+CapEff:\s*0000000000000400\s+CapBnd:\s*0000000000000400/);
  });

  const lacking = opts.privilegedAsksEveryCap ? missingBoundingCaps() : [];
  const privilegedSkip = lacking.length
    ? ` (skipped: ${E.kind} asks for every capability, this host's bounding set lacks cap ${lacking.join(', ')}; runc fails "unable to apply caps")`
    : '';
  it.skipIf(lacking.length > 0)(`[privileged] --privileged: every capability the host has, host devices, writable /sys, mount allowed${privilegedSkip}`, async () => {
    const host = readFileSync('/proc/self/status', 'utf8').match(/CapBnd:\s*([0-9a-f]+)/)![1];
    const r = ok(await cli(['run', '--rm', '--privileged', IMG, 'sh', '-c', 'grep CapEff /proc/self/status; ls /dev; mkdir /tmp/m && mount -t tmpfs none /tmp/m && echo mounted; grep " /sys " /proc/mounts']));
    expect(capEff(r.stdout)).toBe(host);
    expect(r.stdout).toMatch(/^vda$/m); // a host device
    expect(r.stdout).toContain('mounted');
    expect(r.stdout).toMatch(/^sysfs \/sys sysfs rw/m);
  });

  // ------------------------------------------------------------ networks

  it('[net-none] --network none: loopback only', async () => {
    const r = ok(await cli(['run', '--rm', '--network', 'none', IMG, 'sh', '-c', 'ip -o link; ip -o -4 addr']));
    expect(r.stdout).toMatch(/^1: lo:/m);
    expect(r.stdout).not.toMatch(/eth0/);
    expect(r.stdout, `lo is up with 127.0.0.1: ${r.stdout}`).toMatch(/inet 127\.0\.0\.1/);
  });

  it('[net-default] default network: an address, a route, and a reachable neighbour container', async () => {
    await withContainer('srv', [], ['sh', '-c', 'while :; do echo hello-net | nc -l -p 8080; done'], async (name) => {
      const ip = await inspect(name, '{{.NetworkSettings.IPAddress}}');
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const r = ok(await cli(['run', '--rm', IMG, 'sh', '-c', `ip -o -4 addr show eth0; ip route; ping -c 1 -W 5 ${ip}; nc ${ip} 8080 </dev/null`]));
      expect(r.stdout).toMatch(/eth0\s+inet \d+\.\d+\.\d+\.\d+\//);
      expect(r.stdout).toMatch(/^default via /m);
      expect(r.stdout).toMatch(/1 packets received/);
      expect(r.stdout).toContain('hello-net');
    });
  });

  // ------------------------------------------------------------ lifecycle at scale

  it('[restart] start -a: a stopped container runs again', async () => {
    const name = uname('restart');
    try {
      const first = ok(await cli(['run', '--name', name, IMG, 'sh', '-c', 'echo ran']));
      expect(first.stdout).toBe('ran\n');
      const again = ok(await cli(['start', '-a', name]));
      expect(again.stdout).toBe('ran\n');
      expect(ok(await cli(['logs', name])).stdout).toBe('ran\nran\n');
    } finally {
      await rmf(name);
    }
  });

  it('[restart] restart: a running container is stopped and started', async () => {
    await withContainer('restart2', [], SLEEPER, async (name) => {
      const before = await pidOf(name);
      ok(await cli(['restart', '-t', '1', name]));
      expect(await inspect(name, '{{.State.Status}}')).toBe('running');
      const after = await pidOf(name);
      expect(after).not.toBe(before);
      expect(isAlive(after)).toBe(true);
      expect(isAlive(before)).toBe(false);
    });
  });

  it('[ten-in-a-row] ten containers in a row', async () => {
    const t = Date.now();
    for (let i = 0; i < 10; i++) {
      const r = await cli(['run', '--rm', IMG, 'sh', '-c', `echo run-${i}`]);
      expect(r.code, `run ${i}: ${show(r)}`).toBe(0);
      expect(r.stdout).toBe(`run-${i}\n`);
    }
    console.log(`${E.kind}/${RUNTIME.name}: ten runs in a row took ${Date.now() - t} ms`);
  });

  it('[five-at-once] five containers at once', async () => {
    const t = Date.now();
    const rs = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => cli(['run', '--rm', '--name', uname(`five${i}`), IMG, 'sh', '-c', `sleep 1; echo par-${i}`])),
    );
    rs.forEach((r, i) => {
      expect(r.code, `run ${i}: ${show(r)}`).toBe(0);
      expect(r.stdout).toBe(`par-${i}\n`);
    });
    console.log(`${E.kind}/${RUNTIME.name}: five runs at once took ${Date.now() - t} ms`);
  });

  it(`[oom] an OOM kill is reported (${opts.oomReport === 'inspect' ? 'State.OOMKilled' : "conmon's oom file; podman 4.3 cannot set State.OOMKilled"})`, async () => {
    const name = uname('oom');
    const cwd = join(E.dir, name);
    mkdirSync(cwd);
    try {
      const r = await cli(['run', '--name', name, '--memory', '32m', IMG, 'tail', '/dev/zero'], { timeout: 60_000, cwd });
      expect(r.code, show(r)).toBe(137);
      expect(await inspect(name, '{{.State.ExitCode}}')).toBe('137');
      // The shim's OOM event and the task's exit reach dockerd separately: on a
      // loaded host the OOM one can come after `run` has returned.
      if (opts.oomReport === 'inspect') await until(async () => (await inspect(name, '{{.State.OOMKilled}}')) === 'true', 10_000, 'State.OOMKilled');
      else expect(existsSync(join(cwd, 'oom')), "conmon's oom file").toBe(true);
    } finally {
      await rmf(name);
    }
  });

  // ------------------------------------------------------------ leftovers

  it('[no-leftovers] rm -f of a running container leaves no runtime state, cgroup, mount or process', async () => {
    const name = uname('left');
    let id = '';
    try {
      id = await detached(name, ['--memory', '64m'], SLEEPER);
      const pid = await pidOf(name);
      const merged = await inspect(name, '{{.GraphDriver.Data.MergedDir}}');
      const stateDir = join(E.runtimeRoot(), id);
      const cgroups = cgroupDirs(pid);
      expect(existsSync(stateDir), `the runtime's state dir ${stateDir}`).toBe(true);
      expect(cgroups.length).toBeGreaterThan(0);
      expect(cgroups.every((d) => existsSync(d)), cgroups.join(' ')).toBe(true);
      expect(mountsUnder(merged)).toContain(merged);
      ok(await cli([...opts.rmForce, name]));
      await until(() => !isAlive(pid), 5000, 'init to be gone');
      const left = [
        ...(existsSync(stateDir) ? [`state ${stateDir}`] : []),
        ...cgroups.filter((d) => existsSync(d)).map((d) => `cgroup ${d}`),
        ...mountsUnder(merged).map((m) => `mount ${m}`),
        ...readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id)).map((l) => `mount ${l}`),
      ];
      expect(left, left.join('\n')).toEqual([]);
      // the engine's monitor (conmon, the shim) exits a moment after the container
      await until(() => processesMentioning(id).length === 0, 10_000, () => `no process mentioning ${id}; left: ${processesMentioning(id).map(([p, c]) => `${p} ${c}`).join('; ')}`);
    } finally {
      await rmf(name);
    }
  });

  it('[no-leftovers] run --rm leaves no runtime state, cgroup or process', async () => {
    const cidfile = join(E.dir, `cid-${uname('c')}`);
    const r = ok(await cli(['run', '--rm', '--cidfile', cidfile, IMG, 'sh', '-c', 'cat /proc/self/cgroup']));
    const id = readFileSync(cidfile, 'utf8').trim();
    const memPath = r.stdout.match(/^\d+:memory:(.*)$/m)![1];
    await until(async () => (await cli(['inspect', id])).code !== 0, 10_000, 'the container to be removed');
    expect(existsSync(join(E.runtimeRoot(), id))).toBe(false);
    // the path inside may be / (a cgroup namespace) or the host path
    if (memPath !== '/') expect(existsSync(join('/sys/fs/cgroup/memory', memPath))).toBe(false);
    await until(() => processesMentioning(id).length === 0, 10_000, () => `no process mentioning ${id}; left: ${processesMentioning(id).map(([p, c]) => `${p} ${c}`).join('; ')}`);
  });
}

/** The describe block of one docker-style engine, with its start and its clean stop as tests. */
export function dockerLikeSuite(title: string, skip: string | null, opts: DockerLikeOptions): void {
  describe.skipIf(skip !== null)(skip ? `${title} (skipped: ${skip})` : `${title} with ${RUNTIME.name}`, () => {
    // nothing happens before start(): a skipped suite only lists its tests
    const E = opts.make();
    let stopped = false;
    beforeAll(async () => {
      await E.start(opts.images());
    }, 180_000);
    afterAll(async () => {
      if (!stopped) await E.stop();
    }, 180_000);

    dockerLikeTests(E, opts);

    it('[clean-shutdown] the engine stops with nothing left running or mounted', async () => {
      stopped = true;
      expect(await E.stop()).toEqual([]);
    }, 180_000);
  });
}
