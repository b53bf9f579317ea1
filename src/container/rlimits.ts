// process.rlimits -> setrlimit(2) resources.
const RESOURCES = [
  'CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS',
  'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME',
];

const INFINITY = 0xffffffffffffffffn;

// JSON numbers above 2^53 are not exact; anything that large means "unlimited".
function limit(v: number): bigint {
  return v >= Number.MAX_SAFE_INTEGER ? INFINITY : BigInt(v);
}

export function planRlimits(list: Array<{ type: string; soft: number; hard: number }> | undefined) {
  return (list ?? []).map((r) => ({
    resource: RESOURCES.indexOf(r.type.replace(/^RLIMIT_/, '')),
    soft: limit(r.soft),
    hard: limit(r.hard),
  }));
}
