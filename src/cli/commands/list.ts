// list: runc's table (ID PID STATUS BUNDLE CREATED OWNER), -q, --format json.
import { readFileSync, statSync, writeAllSync } from '../../util/fs.ts';
import { ContainerDir, listIds } from '../../state/store.ts';
import { status } from '../../state/status.ts';
import { notExist, RuntimeError } from '../../util/errors.ts';
import { out } from '../../util/output.ts';
import { HELP, type Command } from '../command.ts';

interface Row {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

const command: Command = {
  args: 'none',
  flags: [HELP, { names: ['quiet', 'q'], type: 'bool' }, { names: ['format', 'f'], type: 'string' }],
  run(g, args) {
    const rows: Row[] = [];
    for (const id of listIds(g.root)) {
      // No lock (state/store.ts): a container stuck in a long transition holds up no listing.
      let dir: ContainerDir;
      let s;
      try {
        dir = ContainerDir.peek(g.root, id);
        s = dir.read();
      } catch (e) {
        // Deleted meanwhile: nothing to say. Anything else is said, as runc
        // does, and the rest listed: an unreadable state.json must not hide
        // the directory that keeps its id taken.
        if (!(e instanceof RuntimeError && e.message === notExist().message)) writeAllSync(2, `${(e as Error).message}\n`);
        continue;
      }
      const st = status(dir, s);
      const row: Row = { ociVersion: s.ociVersion, id, pid: st === 'stopped' ? 0 : s.pid, status: st, bundle: s.bundle, rootfs: s.rootfs, created: s.created, owner: s.owner || ownerName(dir.path) };
      if (s.annotations) row.annotations = s.annotations; // (a spread would be a builtin's first use: see below)
      rows.push(row);
    }
    // Loops, not map: map's first use costs ~0.1 ms under Bun (README, "Why Bun").
    if (args.flags.quiet) {
      let ids = '';
      for (const r of rows) ids += r.id + '\n';
      out(ids);
      return 0;
    }
    const format = (args.flags.format as string | undefined) ?? 'table';
    if (format === 'json') {
      out(JSON.stringify(rows.length ? rows : null) + '\n');
      return 0;
    }
    if (format !== 'table') throw new RuntimeError(`invalid format option`);
    const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const r of rows) table.push([r.id, String(r.pid), r.status, r.bundle, r.created, r.owner]);
    // Columns as Go's tabwriter sets them (padding 3); the last one unpadded.
    const widths = [0, 0, 0, 0, 0];
    for (const row of table) for (let c = 0; c < widths.length; c++) if (row[c].length > widths[c]) widths[c] = row[c].length;
    let text = '';
    for (const row of table) {
      for (let c = 0; c < widths.length; c++) text += row[c].padEnd(widths[c] + 3);
      text += row[widths.length] + '\n';
    }
    out(text);
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
