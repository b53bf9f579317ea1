// list: runc's table (ID PID STATUS BUNDLE CREATED OWNER), -q, --format json.
import { readFileSync, statSync } from '../../util/fs.ts';
import { ContainerDir, listIds } from '../../state/store.ts';
import { status } from '../../state/status.ts';
import { RuntimeError } from '../../util/errors.ts';
import { out } from '../../util/output.ts';
import { HELP, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP, { names: ['quiet', 'q'], type: 'bool' }, { names: ['format', 'f'], type: 'string' }],
  run(g, args) {
    const rows = [];
    for (const id of listIds(g.root)) {
      // No lock (state/store.ts): a container stuck in a long transition holds up no listing.
      let dir: ContainerDir;
      let s;
      try {
        dir = ContainerDir.peek(g.root, id);
        s = dir.read();
      } catch {
        continue; // deleted meanwhile, or not a container's directory
      }
      const st = status(dir, s);
      rows.push({ ociVersion: s.ociVersion, id, pid: st === 'stopped' ? 0 : s.pid, status: st, bundle: s.bundle, rootfs: s.rootfs, created: s.created, owner: s.owner || ownerName(dir.path), ...(s.annotations ? { annotations: s.annotations } : {}) });
    }
    if (args.flags.quiet) {
      out(rows.map((r) => r.id + '\n').join(''));
      return 0;
    }
    const format = (args.flags.format as string | undefined) ?? 'table';
    if (format === 'json') {
      out(JSON.stringify(rows.length ? rows : null) + '\n');
      return 0;
    }
    if (format !== 'table') throw new RuntimeError(`invalid format option`);
    const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
    const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
    out(table.map((row) => row.map((cell, c) => (c < row.length - 1 ? cell.padEnd(widths[c] + 3) : cell)).join('') + '\n').join(''));
    return 0;
  },
};
export default command;

/**
 * runc's OWNER: the user owning the container's state directory, by name
 * (`#UID` when /etc/passwd has none), so a rootless user's containers show
 * as theirs.
 */
function ownerName(path: string): string {
  let uid: number;
  try {
    uid = statSync(path).uid;
  } catch {
    return 'root';
  }
  if (uid === 0) return 'root';
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid && f[2] !== '') return f[0];
    }
  } catch {}
  return `#${uid}`;
}
