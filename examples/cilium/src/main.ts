// cilium's eBPF datapath: endpoint-map redirects, VXLAN from a program, and traceroute's stars.
import { ciliumExample } from './cilium.js';

console.log(ciliumExample().join('\n'));
