// Native VPC routing: one cloud route per node, no encapsulation.
import { nativeVpcExample } from './native-vpc.js';

console.log(nativeVpcExample().join('\n'));
