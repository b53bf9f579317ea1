// --help text. Kept true to what is implemented.
const VERBS: Record<string, string> = {
  create: 'create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] [--no-pivot] [--no-new-keyring] ID\n  Create a container; its process waits until `start`.',
  start: 'start ID\n  Run the user process of a created container.',
  run: 'run [--bundle DIR] [--pid-file F] [--console-socket S] [-d] [--keep] [--preserve-fds N] [--no-pivot] [--no-new-keyring] ID\n  create + start, then wait and exit with the container\'s status (128+N when killed by signal N).',
  state: 'state ID\n  Print the runtime-spec state JSON.',
  kill: 'kill [--all] ID [SIGNAL]\n  Send a signal (name or number, default SIGTERM) to the container\'s init, or with --all to every process in its cgroup.',
  exec: 'exec [-t] [-d] [--console-socket S] [--pid-file F] [-e K=V] [--cwd D] [-u UID[:GID]] [-g GIDS] [--cap CAP] [--no-new-privs] [--apparmor P] [--process-label L] [--cgroup [CTRL[,CTRL...]:]PATH] [--preserve-fds N] [--ignore-paused] ID COMMAND... | exec --process FILE ID\n  Run another process in a running container (--cgroup: in an existing sub-cgroup of its cgroup).',
  ps: 'ps [--format table|json] ID [PS-OPTIONS]\n  The container\'s processes, as ps(1) shows them (default -ef), or their pids as JSON.',
  features: 'features\n  Print the runtime-spec features document.',
  delete: 'delete [--force] ID\n  Delete a stopped (or created) container; --force kills a running one first.',
  list: 'list [-q] [--format table|json]\n  List containers.',
  spec: 'spec [--bundle DIR] [--rootless]\n  Write a default config.json.',
  pause: 'pause ID\n  Freeze every process of a running (or created) container.',
  resume: 'resume ID\n  Thaw a paused container.',
  update:
    'update [-r FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N] [--cpu-share(s) N] [--cpu-quota N] [--cpu-period N] [--cpu-burst N] [--cpu-rt-period N] [--cpu-rt-runtime N] [--cpu-idle N] [--cpuset-cpus L] [--cpuset-mems L] [--pids-limit N] [--blkio-weight N] ID\n  Change the cgroup limits of a live container (-r: linux.resources JSON from FILE or stdin; the other flags are then ignored).',
  events: 'events [--stats] [--interval D] ID\n  Print stats (once with --stats, else every D, default 5s) and OOM events as JSON lines.',
};

export function usage(verb?: string): string {
  if (verb && VERBS[verb]) return `usage: tsrunc ${VERBS[verb]}\n`;
  return [
    'tsrunc: a runc-compatible OCI container runtime',
    '',
    'usage: tsrunc [global options] COMMAND [options] [arguments]',
    '',
    'commands:',
    ...Object.values(VERBS).map((v) => '  ' + v.split('\n')[0]),
    '',
    'global options:',
    '  --root DIR          state directory (default /run/tsrunc)',
    '  --log FILE          write errors to FILE (stderr gets the bare message)',
    '  --log-format FMT    text or json',
    '  --debug             debug logging',
    '  --systemd-cgroup    the container\'s cgroup is a systemd scope (cgroupsPath "slice:prefix:name"; cgroup v2 only)',
    '  --rootless VALUE    accepted and ignored',
    '  -v, --version       print the version',
    '  -h, --help          show help',
    '',
  ].join('\n');
}
