/** Shells the lab-shell tests open on the seed lab (tests only: the package's build leaves __fixtures__ out). */
import { createSession, type Session } from '../index.js';

/** pod-a's network namespace on node-1, as /var/run/netns names it. */
export const POD_A_NS = 'cni-9b4b2bd3-00c8-562e-6521-fd6c27e3a3a9';

/** A root shell on node-1 (CAP_NET_ADMIN), or without `admin` the plain debug pod. */
export function onNode(admin = true): Session {
  const s = createSession();
  s.run(`kubectl debug node/node-1 -it --image=nicolaka/netshoot${admin ? ' --profile=sysadmin' : ''}`);
  s.run('chroot /host');
  return s;
}
