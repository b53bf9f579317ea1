// podman 4.3 (Debian 12) with --runtime set to the runtime under test.
import { inject } from 'vitest';
import { dockerLikeSuite } from './lib/dockerlike.ts';
import { BIN, Podman } from './lib/engines.ts';
import { skipReason } from './lib/env.ts';

dockerLikeSuite('podman', skipReason('podman', [BIN.podman, BIN.conmon, BIN.nsenter, '/usr/lib/podman/netavark']), {
  make: () => new Podman(),
  images: () => inject('engineImages'),
  statsLimit64m: /\/ 67\.11MB/,
  rmForce: ['rm', '-f', '-t', '0'],
  makesWorkdir: false,
  oomReport: 'conmon-cwd',
  privilegedAsksEveryCap: false,
});
