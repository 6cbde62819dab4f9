// Break the unique-IP guarantee on purpose, watch podnet catch it, undo it, and refuse it in throw mode.
import { catchAViolation } from './catch-a-violation.js';

console.log(catchAViolation().join('\n'));
