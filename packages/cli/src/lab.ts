// `pnpm lab`: the lab shell on a terminal; without one (CI, a pipe), the lesson's tour.
import { main } from './main.js';

process.exitCode = await main(process.stdin.isTTY ? process.argv.slice(2) : ['--tour', ...process.argv.slice(2)]);
