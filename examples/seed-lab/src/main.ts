// `pnpm run example` (in examples/seed-lab): the lesson's cluster, inspected as a newcomer would inspect a real one.
import { seedLab } from './seed-lab.js';

console.log(seedLab().join('\n'));
