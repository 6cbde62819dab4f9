// Send one packet from pod-a to pod-f and read its trace step by step.
import { sendOnePacket } from './send-one-packet.js';

console.log(sendOnePacket().join('\n'));
