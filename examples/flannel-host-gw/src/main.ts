// flannel host-gw on one segment, then with a node on another segment: the refused routes and what they break.
import { flannelHostGw } from './flannel-host-gw.js';

console.log(flannelHostGw().join('\n'));
