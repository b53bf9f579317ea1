// dockerd 20.10 (Debian 12's docker.io) on a private containerd, with the
// runtime under test added (--add-runtime) and made the default.
import { inject } from 'vitest';
import { dockerLikeSuite } from './lib/dockerlike.ts';
import { BIN, Docker } from './lib/engines.ts';
import { skipReason } from './lib/env.ts';

dockerLikeSuite('docker', skipReason('docker', [BIN.dockerd, BIN.docker, BIN.containerd, BIN.shim, BIN.nsenter]), {
  make: () => new Docker(),
  images: () => inject('engineImages'),
  statsLimit64m: /\/ 64MiB/,
  rmForce: ['rm', '-f'],
  makesWorkdir: true,
  oomReport: 'inspect',
  privilegedAsksEveryCap: true,
});
