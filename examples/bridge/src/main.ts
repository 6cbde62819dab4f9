// The bridge plugin alone: enough for one node, not for two.
import { bridgeExample } from './bridge.js';

console.log(bridgeExample().join('\n'));
