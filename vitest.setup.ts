// Tests run with deep freezing on: an accidental mutation of a state throws instead of passing silently.
import { setFreezing } from '@podnet/core';

setFreezing(true);
