// Four designs with one realistic mistake each, and what the guarantees (or a full-size ping) say about them.
import { brokenDesigns } from './broken-designs.js';

console.log(brokenDesigns().join('\n'));
