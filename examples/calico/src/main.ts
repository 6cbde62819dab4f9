// calico on two racks: encapsulation none (with and without ToR peering) and IPIP CrossSubnet.
import { calicoLab } from './calico-lab.js';

console.log(calicoLab().join('\n'));
