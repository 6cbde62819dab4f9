// The lesson's IP-exhaustion story: an m5.large fills up at 29 pods; prefix delegation fixes it.
import { ipExhaustion } from './ip-exhaustion.js';

console.log(ipExhaustion().join('\n'));
