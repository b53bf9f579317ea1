// --help text, in runc's layout (urfave/cli's: NAME, USAGE, DESCRIPTION,
// OPTIONS; the global help adds VERSION, COMMANDS and GLOBAL OPTIONS), since
// scripts and engines read runc's help to learn what it takes. The OPTIONS
// are made from each command's own flag list, so they cannot drift from what
// is parsed; this file holds only the words (test/cli.test.ts checks that
// every flag has some). Kept true to what is implemented.
import { ENGINE } from '../util/engine.ts';
import type { FlagSpec } from './args.ts';

interface VerbHelp {
  /** the one line after the name (urfave's Usage) */
  summary: string;
  /** what follows `tsrunc VERB` in USAGE (urfave's ArgsUsage) */
  args: string;
  description?: string;
  /** per flag (its first name): what it does */
  options?: Record<string, string>;
}

const ID = `<container-id>

Where "<container-id>" is the name of the container's instance.`;

const CREATE_OPTIONS: Record<string, string> = {
  bundle: 'path to the root of the bundle directory, defaults to the current directory',
  'console-socket': "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
  'pid-file': 'specify the file to write the process id to',
  'no-pivot': 'do not use pivot_root to jail the process inside rootfs (MS_MOVE and chroot instead)',
  'no-new-keyring': "do not create a new session keyring for the container: it inherits the caller's session key",
  'preserve-fds': 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
};

export const VERBS: Record<string, VerbHelp> = {
  create: {
    summary: 'create a container',
    args: ID,
    description: `The create command creates an instance of a container for a bundle: a directory
with a specification file named "config.json" and a root filesystem. The
container's process waits until "start"; its args come from the spec.`,
    options: CREATE_OPTIONS,
  },
  start: {
    summary: 'executes the user defined process in a created container',
    args: ID,
    description: 'The start command executes the user defined process in a created container.',
  },
  run: {
    summary: 'create and run a container',
    args: ID,
    description: `The run command creates an instance of a container for a bundle and starts it.
In the foreground it forwards signals, waits, and exits with the container's
status (128+N when killed by signal N).`,
    options: {
      ...CREATE_OPTIONS,
      detach: "detach from the container's process",
      keep: 'do not delete the container after it exits',
      'no-subreaper': 'accepted; tsrunc is no subreaper',
    },
  },
  state: { summary: 'output the state of a container', args: ID, description: 'The state command prints the runtime-spec state JSON of the container.' },
  kill: {
    summary: "kill sends the specified signal (default: SIGTERM) to the container's init process",
    args: `<container-id> [signal]

Where "<container-id>" is the name of the container's instance and "[signal]"
the signal (a name such as KILL or SIGKILL, or a number) sent to its init.`,
    options: { all: 'send the specified signal to all processes inside the container' },
  },
  delete: {
    summary: 'delete any resources held by the container often used with detached container',
    args: ID,
    options: { force: 'Forcibly deletes the container if it is still running (uses SIGKILL)' },
  },
  list: {
    summary: 'lists containers started by tsrunc with the given root',
    args: '',
    options: { format: 'select one of: table or json (default: "table")', quiet: 'display only container IDs' },
  },
  spec: {
    summary: 'create a new specification file',
    args: '',
    description: 'The spec command writes a starter "config.json" into the bundle directory.',
    options: { bundle: 'path to the root of the bundle directory', rootless: 'generate a configuration for a rootless container' },
  },
  exec: {
    summary: 'execute new process inside the container',
    args: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name of the container's instance and "<command>"
the command to be executed in it; "<command>" can be empty only with "-p".`,
    options: {
      'console-socket': CREATE_OPTIONS['console-socket'],
      cwd: 'current working directory in the container',
      env: 'set environment variables',
      tty: 'allocate a pseudo-TTY',
      user: 'UID (format: <uid>[:<gid>])',
      'additional-gids': 'additional gids',
      process: 'path to the process.json',
      detach: "detach from the container's process",
      'pid-file': 'specify the file to write the process id to',
      'process-label': 'set the SELinux label of the process (refused where SELinux does not run)',
      apparmor: 'set the AppArmor profile of the process (refused where AppArmor does not run)',
      'no-new-privs': 'set the no new privileges value for the process',
      cap: 'add a capability to the bounding set for the process',
      'preserve-fds': CREATE_OPTIONS['preserve-fds'],
      cgroup: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.',
      'ignore-paused': 'allow exec in a paused container',
    },
  },
  ps: {
    summary: 'ps displays the processes running inside a container',
    args: '<container-id> [ps options]',
    options: { format: 'select one of: table or json (default: "table")' },
  },
  features: {
    summary: 'show the enabled features',
    args: '',
    description: 'Show the enabled features, as a JSON document (runtime-spec features.md).',
  },
  pause: { summary: 'pause suspends all processes inside the container', args: ID, description: 'The pause command suspends all processes in the instance of the container.' },
  resume: { summary: 'resumes all processes that have been previously paused', args: ID, description: 'The resume command resumes all processes in the instance of the container.' },
  update: {
    summary: 'update container resource constraints',
    args: '<container-id>',
    options: {
      resources: `path to the file containing the resources to update or '-' to read from the standard input

The accepted format is linux.resources of the runtime spec (unchanged values
can be omitted), e.g.:

{
  "memory": { "limit": 0, "reservation": 0, "swap": 0 },
  "cpu": { "shares": 0, "quota": 0, "burst": 0, "period": 0, "realtimeRuntime": 0,
           "realtimePeriod": 0, "cpus": "", "mems": "", "idle": 0 },
  "blockIO": { "weight": 0 }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.`,
      'blkio-weight': 'Specifies per cgroup weight, range is from 10 to 1000',
      'cpu-period': 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default',
      'cpu-quota': 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period',
      'cpu-burst': 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period',
      'cpu-share': 'CPU shares (relative weight vs. other containers)',
      'cpu-rt-period': 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default',
      'cpu-rt-runtime': 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period',
      'cpuset-cpus': 'CPU(s) to use',
      'cpuset-mems': 'Memory node(s) to use',
      'kernel-memory': '(obsoleted; do not use)',
      'kernel-memory-tcp': '(obsoleted; do not use)',
      memory: 'Memory limit (in bytes)',
      'cpu-idle': 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE',
      'memory-reservation': 'Memory reservation or soft_limit (in bytes)',
      'memory-swap': "Total memory usage (memory + swap); set '-1' to enable unlimited swap",
      'pids-limit': 'Maximum number of pids allowed in the container',
      'l3-cache-schema': 'The string of Intel RDT/CAT L3 cache schema (refused: no Intel RDT)',
      'mem-bw-schema': 'The string of Intel RDT/MBA memory bandwidth schema (refused: no Intel RDT)',
    },
  },
  events: {
    summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    args: ID,
    description: 'The events command displays information about the container. By default the\ninformation is displayed once every 5 seconds.',
    options: { interval: 'set the stats collection interval (default: 5s)', stats: "display the container's stats then exit" },
  },
};

/** Flags runc does not show: help itself, and the obsolete ones. */
const HIDDEN = new Set(['help', 'kernel-memory', 'kernel-memory-tcp']);

const GLOBAL_OPTIONS: Array<[FlagSpec, string]> = [
  [{ names: ['debug'], type: 'bool' }, 'enable debug logging'],
  [{ names: ['log'], type: 'string' }, "set the log file to write tsrunc logs to (default is '/dev/stderr')"],
  [{ names: ['log-format'], type: 'string' }, `set the log format ('text' (default), or 'json') (default: "text")`],
  [{ names: ['root'], type: 'string' }, 'root directory for storage of container state (this should be located in tmpfs) (default: "/run/tsrunc", or $XDG_RUNTIME_DIR/tsrunc when not root)'],
  [{ names: ['criu'], type: 'string' }, 'accepted and ignored: tsrunc has no checkpoint/restore'],
  [{ names: ['systemd-cgroup'], type: 'bool' }, 'enable systemd cgroup support: the container\'s cgroup is a transient scope, cgroupsPath "slice:prefix:name" (cgroup v2 only)'],
  [{ names: ['rootless'], type: 'string' }, 'ignore cgroup permission errors (\'true\', \'false\', or \'auto\') (default: "auto": yes when not root)'],
  [{ names: ['help', 'h'], type: 'bool' }, 'show help'],
  [{ names: ['version', 'v'], type: 'bool' }, 'print the version'],
];

/** "--bundle value, -b value" as urfave/cli writes a flag's names. */
function flagNames(f: FlagSpec): string {
  const value = f.type === 'bool' ? '' : ' value';
  return f.names.map((n) => `${n.length > 1 ? '--' : '-'}${n}${value}`).join(', ');
}

/** The OPTIONS block: names padded to one column, then the text (and an int's default). */
function optionLines(rows: Array<[FlagSpec, string]>): string {
  const width = Math.max(...rows.map(([f]) => flagNames(f).length));
  return rows
    .map(([f, text]) => `   ${flagNames(f).padEnd(width)}  ${text}${f.type === 'int' && !/\(default/.test(text) ? ' (default: 0)' : ''}`)
    .join('\n');
}

/** `tsrunc VERB --help`: flags are the command's own list. */
export function verbUsage(verb: string, flags: FlagSpec[]): string {
  const h = VERBS[verb];
  const shown = flags.filter((f) => !HIDDEN.has(f.names[0]));
  const out = ['NAME:', `   tsrunc ${verb} - ${h.summary}`, '', 'USAGE:', `   tsrunc ${verb}${shown.length ? ' [command options]' : ''} ${h.args || '[arguments...]'}`];
  if (h.description) out.push('', 'DESCRIPTION:', `   ${h.description}`);
  if (shown.length) out.push('', 'OPTIONS:', optionLines(shown.map((f) => [f, h.options?.[f.names[0]] ?? ''])), '   ');
  return out.join('\n') + '\n';
}

/** `tsrunc --help`. */
export function usage(version: string, spec: string): string {
  const names = [...Object.keys(VERBS), 'help, h'];
  const width = Math.max(...names.map((n) => n.length));
  return [
    'NAME:',
    '   tsrunc - Open Container Initiative runtime',
    '',
    'tsrunc is a runc-compatible OCI container runtime: it runs containers from bundles',
    '(a directory with a "config.json" and a root filesystem) as runc does, with runc\'s',
    'command line. To start a new instance of a container:',
    '',
    '    # tsrunc run [ -b bundle ] <container-id>',
    '',
    'USAGE:',
    '   tsrunc [global options] command [command options] [arguments...]',
    '',
    'VERSION:',
    `   ${version}`,
    `spec: ${spec}`,
    ENGINE,
    '',
    'COMMANDS:',
    ...Object.entries(VERBS).map(([v, h]) => `   ${v.padEnd(width)}  ${h.summary}`),
    `   ${'help, h'.padEnd(width)}  Shows a list of commands or help for one command`,
    '',
    'GLOBAL OPTIONS:',
    optionLines(GLOBAL_OPTIONS),
    '',
  ].join('\n');
}
