// Private instances of the three engines, each in its own temp dir and its
// own network namespace, handed the runtime under test:
//   podman     --runtime RUNTIME, own --root/--runroot/--tmpdir, own containers.conf
//   containerd own root/state/socket/config.toml; ctr run --runc-binary RUNTIME --runc-root DIR
//   dockerd    own --data-root/--exec-root/-H socket, --containerd at its own private
//              containerd, --add-runtime NAME=RUNTIME --default-runtime NAME
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Images,
  type Result,
  type RunOpts,
  deleteNetns,
  isAlive,
  makeNetns,
  mountsUnder,
  processesMentioning,
  run,
  runtimeForEngine,
  sh,
  stopProcess,
  unmountAll,
  until,
} from './env.ts';

export const BIN = {
  podman: '/usr/bin/podman',
  conmon: '/usr/bin/conmon',
  containerd: '/usr/bin/containerd',
  shim: '/usr/bin/containerd-shim-runc-v2',
  ctr: '/usr/bin/ctr',
  dockerd: '/usr/sbin/dockerd',
  // Debian's client; /usr/local/bin may hold another one
  docker: '/usr/bin/docker',
  nsenter: '/usr/bin/nsenter',
};

/** What every engine gives the tests. */
export interface Engine {
  /** podman | docker | containerd */
  readonly kind: string;
  /** the image every test runs */
  readonly image: string;
  /** the private temp dir everything of this engine lives under (made by start) */
  readonly dir: string;
  /** the runtime path handed to the engine (a tracing wrapper with ENGINE_TRACE=1) */
  readonly runtimePath: string;
  /** the runtime's trace log with ENGINE_TRACE=1 */
  readonly trace: string | null;
  /** makes the temp dir and netns, starts the daemons, imports the image */
  start(images: Images): Promise<void>;
  /** argv of the engine's CLI (for onPty) */
  argv(args: string[]): string[];
  /** runs the engine's CLI */
  cli(args: string[], opts?: RunOpts): Promise<Result>;
  /** the --root the runtime is run with, where its per-container state lives */
  runtimeRoot(): string;
  /** stops the daemons and removes everything; returns what was left behind */
  stop(): Promise<string[]>;
}

/**
 * The mount points an engine makes itself, in its own dirs (dockerd: its
 * graph driver's home bound onto itself, each container's overlay `merged`
 * and `shm`, its netns files; containerd: each bundle's `rootfs`). dockerd
 * unmounts them as it shuts down, but one stopped the hard way (SIGKILL on a
 * loaded machine) leaves them: that is the engine's leftover, not the
 * runtime's. A mount *below* a container's rootfs (one that propagated out
 * of a container) or anywhere else under the engine's dir is the runtime's.
 */
export function engineOwnMount(dir: string, mountPoint: string): boolean {
  if (!mountPoint.startsWith(`${dir}/`)) return false;
  const rel = mountPoint.slice(dir.length + 1);
  return [
    /^data(\/overlay2)?$/,
    /^data\/overlay2\/[^/]+\/merged$/,
    /^data\/containers\/[^/]+\/mounts\/shm$/,
    /^exec\/netns\/[^/]+$/,
    /^containerd-state\/io\.containerd\.runtime\.v2\.task\/[^/]+\/[^/]+\/rootfs$/,
  ].some((re) => re.test(rel));
}

/**
 * Everything an engine left behind in `dir` or in the host: processes, mounts,
 * its netns. Mounts the engine made itself (engineOwnMount) are reported on
 * stderr and not returned: after the engine's shutdown they are its own doing,
 * and only what the runtime under test left may fail the suite.
 */
function leftovers(dir: string, netns: string): string[] {
  const left: string[] = [];
  for (const [pid, cmd] of processesMentioning(dir)) left.push(`process ${pid}: ${cmd}`);
  const own: string[] = [];
  for (const m of mountsUnder(dir)) {
    if (engineOwnMount(dir, m)) own.push(m);
    else left.push(`mount ${m}`);
  }
  if (own.length) process.stderr.write(`engines: the engine's own mounts were still there after its shutdown (not counted against the runtime): ${own.join(', ')}\n`);
  if (existsSync(`/run/netns/${netns}`)) left.push(`netns ${netns}`);
  return left;
}

/** With ENGINE_TRACE=1 the runtime's argv log outlives the engine's temp dir. */
function keepTrace(e: Engine): void {
  if (!e.trace || !existsSync(e.trace)) return;
  const to = `/tmp/tsrunc-engines-${e.kind}-runtime-trace-${process.pid}.log`;
  copyFileSync(e.trace, to);
  process.stderr.write(`engines: ${e.kind}: the runtime's argv log is ${to}\n`);
}

function tidyRunContainerd(): void {
  // shims put their sockets in /run/containerd/s whatever the containerd
  // root; remove the directories if they are empty (and so unused)
  for (const d of ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd']) {
    try {
      rmdirSync(d);
    } catch {
      /* not there, or in use */
    }
  }
}

/**
 * The end of stopping an engine that runs on a (private) containerd: shims
 * gone, containerd stopped, what is left reported, then all of it removed.
 */
async function finishStop(e: Engine & { netns: string }, containerd: { pid?: number; stop(): Promise<void> }): Promise<string[]> {
  await until(() => processesMentioning(e.dir).every(([pid]) => pid === containerd.pid), 10_000, 'shims to exit').catch(() => {});
  await containerd.stop();
  const left = leftovers(e.dir, '-');
  for (const [pid] of processesMentioning(e.dir)) await stopProcess(pid, 2000).catch(() => {});
  unmountAll(e.dir);
  keepTrace(e);
  deleteNetns(e.netns);
  tidyRunContainerd();
  rmSync(e.dir, { recursive: true, force: true });
  return left;
}

let netnsSeq = 0;
function netnsName(kind: string): string {
  return `tsrunc-${kind}-${process.pid}-${++netnsSeq}`;
}

// ---------------------------------------------------------------- podman

export class Podman implements Engine {
  readonly kind = 'podman';
  readonly image = 'localhost/tsrunc-busybox:test';
  readonly netns = netnsName('podman');
  dir = '';
  runtimePath = '';
  trace: string | null = null;
  private runtimeName = '';
  private env: NodeJS.ProcessEnv = {};
  private global: string[] = [];

  private setup(): void {
    this.dir = mkdtempSync('/tmp/tsrunc-engines-podman-');
    const rt = runtimeForEngine(this.dir);
    this.runtimePath = rt.path;
    this.runtimeName = rt.name;
    this.trace = rt.trace;
    const conf = join(this.dir, 'containers.conf');
    // This host lacks CAP_SYS_RESOURCE: podman's default ulimits (nofile
    // 1048576) could not be set by any runtime, so ask for what the host allows.
    writeFileSync(
      conf,
      [
        '[containers]',
        'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${this.dir}/events.log"`,
        '[network]',
        `network_config_dir = "${this.dir}/networks"`,
        '',
      ].join('\n'),
    );
    const storage = join(this.dir, 'storage.conf');
    writeFileSync(storage, `[storage]\ndriver = "overlay"\ngraphroot = "${this.dir}/root"\nrunroot = "${this.dir}/runroot"\n`);
    this.env = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
    this.global = [
      '--root', `${this.dir}/root`,
      '--runroot', `${this.dir}/runroot`,
      '--tmpdir', `${this.dir}/tmp`,
      '--storage-driver', 'overlay',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      '--runtime', this.runtimePath,
    ];
  }

  async start(images: Images): Promise<void> {
    this.setup();
    makeNetns(this.netns);
    const r = await this.cli(['import', images.rootfsTar, this.image]);
    if (r.code !== 0) throw new Error(`podman import failed: ${r.stderr}`);
  }

  argv(args: string[]): string[] {
    // env is how CONTAINERS_CONF reaches podman under onPty
    return [
      'env', `CONTAINERS_CONF=${this.env.CONTAINERS_CONF}`, `CONTAINERS_STORAGE_CONF=${this.env.CONTAINERS_STORAGE_CONF}`,
      BIN.nsenter, `--net=/run/netns/${this.netns}`, BIN.podman, ...this.global, ...args,
    ];
  }

  cli(args: string[], opts: RunOpts = {}): Promise<Result> {
    const [, , , ...argv] = this.argv(args);
    // conmon inherits podman's cwd and writes an `oom` file there
    return run(argv[0], argv.slice(1), { cwd: this.dir, ...opts, env: this.env });
  }

  /** podman runs the runtime without --root: its default (/run/runc, /run/tsrunc). */
  runtimeRoot(): string {
    return `/run/${this.runtimeName}`;
  }

  async stop(): Promise<string[]> {
    if (!this.dir) return [];
    if (existsSync(`/run/netns/${this.netns}`)) {
      await this.cli(['rm', '--all', '--force', '--time', '0'], { timeout: 120_000 });
      await this.cli(['system', 'reset', '--force'], { timeout: 120_000 });
    }
    // conmon exits with its container; give stragglers a moment
    await until(() => processesMentioning(this.dir).length === 0, 10_000, 'conmon to exit').catch(() => {});
    const left = leftovers(this.dir, '-');
    for (const [pid] of processesMentioning(this.dir)) await stopProcess(pid, 2000).catch(() => {});
    unmountAll(this.dir);
    keepTrace(this);
    deleteNetns(this.netns);
    rmSync(this.dir, { recursive: true, force: true });
    return left;
  }
}

// ---------------------------------------------------------------- containerd

/** A private containerd: own root, state, sockets and config, in its own netns. */
class ContainerdDaemon {
  readonly socket: string;
  pid = 0;
  constructor(readonly dir: string, readonly netns: string) {
    this.socket = join(dir, 'containerd.sock');
  }

  async start(): Promise<void> {
    const d = this.dir;
    mkdirSync(d, { recursive: true });
    const config = join(d, 'containerd.toml');
    writeFileSync(
      config,
      [
        'version = 2',
        `root = "${d}/containerd-root"`,
        `state = "${d}/containerd-state"`,
        // CRI wants CNI and more; the engines here only use containerd's own API
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${this.socket}"`,
        '[ttrpc]',
        `  address = "${this.socket}.ttrpc"`,
        '[debug]',
        `  address = "${d}/containerd-debug.sock"`,
        '  level = "info"',
        '',
      ].join('\n'),
    );
    const log = openSync(join(d, 'containerd.log'), 'a');
    const child = spawn(BIN.nsenter, [`--net=/run/netns/${this.netns}`, BIN.containerd, '--config', config], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    this.pid = child.pid!;
    await until(
      async () => {
        if (!isAlive(this.pid)) throw new Error(`containerd exited; see ${d}/containerd.log`);
        return (await run(BIN.ctr, ['--address', this.socket, 'version'], { timeout: 5000 })).code === 0;
      },
      30_000,
      'containerd to serve',
    );
  }

  async stop(): Promise<void> {
    if (this.pid) await stopProcess(this.pid);
  }
}

export class Containerd implements Engine {
  readonly kind = 'containerd';
  readonly image = 'localhost/tsrunc-busybox:test';
  readonly netns = netnsName('ctrd');
  readonly namespace = 'tsrunc-test';
  dir = '';
  runtimePath = '';
  trace: string | null = null;
  daemon!: ContainerdDaemon;

  async start(images: Images): Promise<void> {
    this.dir = mkdtempSync('/tmp/tsrunc-engines-containerd-');
    const rt = runtimeForEngine(this.dir);
    this.runtimePath = rt.path;
    this.trace = rt.trace;
    this.daemon = new ContainerdDaemon(this.dir, this.netns);
    makeNetns(this.netns);
    await this.daemon.start();
    const r = await this.cli(['image', 'import', images.imageTar]);
    if (r.code !== 0) throw new Error(`ctr image import failed: ${r.stderr}`);
  }

  argv(args: string[]): string[] {
    return [BIN.ctr, '--address', this.daemon.socket, '--namespace', this.namespace, ...args];
  }

  cli(args: string[], opts: RunOpts = {}): Promise<Result> {
    const [cmd, ...rest] = this.argv(args);
    return run(cmd, rest, { cwd: this.dir, ...opts });
  }

  /** `ctr run` flags that hand containerd's runc shim the runtime under test. */
  runFlags(): string[] {
    return ['--runc-binary', this.runtimePath, '--runc-root', join(this.dir, 'runtime-root'), '--fifo-dir', join(this.dir, 'fifo')];
  }

  runtimeRoot(): string {
    return join(this.dir, 'runtime-root', this.namespace);
  }

  async stop(): Promise<string[]> {
    if (!this.dir) return [];
    if (this.daemon.pid && isAlive(this.daemon.pid)) {
      const tasks = await this.cli(['task', 'ls', '-q']);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) {
        await this.cli(['task', 'kill', '-s', 'SIGKILL', id]);
      }
      for (const id of tasks.stdout.split('\n').filter(Boolean)) {
        await until(async () => (await this.cli(['task', 'delete', id])).code === 0, 10_000, `task ${id} deleted`).catch(() => {});
      }
      const cs = await this.cli(['container', 'ls', '-q']);
      for (const id of cs.stdout.split('\n').filter(Boolean)) await this.cli(['container', 'delete', id]);
    }
    return finishStop(this, this.daemon);
  }
}

// ---------------------------------------------------------------- docker

export class Docker implements Engine {
  readonly kind = 'docker';
  readonly image = 'localhost/tsrunc-busybox:test';
  readonly netns = netnsName('docker');
  dir = '';
  runtimePath = '';
  trace: string | null = null;
  runtimeName = '';
  containerd!: ContainerdDaemon;
  socket = '';
  pid = 0;

  async start(images: Images): Promise<void> {
    this.dir = mkdtempSync('/tmp/tsrunc-engines-docker-');
    const rt = runtimeForEngine(this.dir);
    this.runtimePath = rt.path;
    this.trace = rt.trace;
    // "runc" is dockerd's built-in runtime and cannot be redefined
    this.runtimeName = rt.name === 'runc' ? 'runc-under-test' : rt.name;
    this.containerd = new ContainerdDaemon(this.dir, this.netns);
    this.socket = join(this.dir, 'docker.sock');
    makeNetns(this.netns);
    await this.containerd.start();
    const d = this.dir;
    writeFileSync(join(d, 'daemon.json'), '{}\n');
    const log = openSync(join(d, 'dockerd.log'), 'a');
    const child = spawn(
      BIN.nsenter,
      [
        `--net=/run/netns/${this.netns}`,
        BIN.dockerd,
        '--config-file', join(d, 'daemon.json'),
        '--data-root', join(d, 'data'),
        '--exec-root', join(d, 'exec'),
        '--pidfile', join(d, 'docker.pid'),
        '-H', `unix://${this.socket}`,
        '--containerd', this.containerd.socket,
        '--add-runtime', `${this.runtimeName}=${this.runtimePath}`,
        '--default-runtime', this.runtimeName,
        '--exec-opt', 'native.cgroupdriver=cgroupfs',
        '--storage-driver', 'overlay2',
        // docker0 and its NAT rules live in the private netns
        '--iptables=true',
        '--userland-proxy=false',
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    child.unref();
    this.pid = child.pid!;
    await until(
      async () => {
        if (!isAlive(this.pid)) throw new Error(`dockerd exited; see ${d}/dockerd.log`);
        return (await run(BIN.docker, ['-H', `unix://${this.socket}`, 'version'], { timeout: 5000 })).code === 0;
      },
      60_000,
      'dockerd to serve',
    );
    const r = await this.cli(['import', images.rootfsTar, this.image]);
    if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  }

  argv(args: string[]): string[] {
    return [BIN.docker, '-H', `unix://${this.socket}`, ...args];
  }

  cli(args: string[], opts: RunOpts = {}): Promise<Result> {
    const [cmd, ...rest] = this.argv(args);
    return run(cmd, rest, { cwd: this.dir, ...opts, env: { ...process.env, DOCKER_CONFIG: join(this.dir, 'client') } });
  }

  /** dockerd gives containerd's runc shim --root <exec-root>/runtime-<name>, namespace moby. */
  runtimeRoot(): string {
    const base = join(this.dir, 'exec');
    const dirs = existsSync(base) ? readdirSync(base).filter((e) => e.startsWith('runtime-')) : [];
    return join(base, dirs[0] ?? `runtime-${this.runtimeName}`, 'moby');
  }

  async stop(): Promise<string[]> {
    if (!this.dir) return [];
    if (this.pid && isAlive(this.pid)) {
      const ids = (await this.cli(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.cli(['rm', '-f', ...ids], { timeout: 120_000 });
      // dockerd unmounts its graph driver and netns files as it stops: on a
      // loaded machine that takes a while, and a SIGKILL leaves them behind.
      const t0 = Date.now();
      await stopProcess(this.pid, 90_000);
      if (Date.now() - t0 > 85_000) process.stderr.write(`engines: dockerd did not stop within 90 s of SIGTERM: killed\n`);
    }
    return finishStop(this, this.containerd);
  }
}

export { sh };
