// A lab written as a file, started and solved the way a student would.
import { play, STUDENT } from './lab.js';

console.log(play(STUDENT).transcript);
