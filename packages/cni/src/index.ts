/** @podnet/cni — CNI designs for podnet: host-local IPAM, the bridge plugin, flannel (VXLAN, host-gw), broken designs. */
export type { BridgeOptions } from './designs/bridge.js';
export { bridge } from './designs/bridge.js';
export { broken } from './designs/broken.js';
export type { FlannelOptions } from './designs/flannel.js';
export { flannel, flanneldLog, flannelNetConf, vethName, vtepMac } from './designs/flannel.js';
export type { HostLocalRange, HostLocalState, IpamError } from './ipam/host-local.js';
export { allocate, defaultRange, EMPTY_HOST_LOCAL, release } from './ipam/host-local.js';
export type { ClusterSpecJson } from './spec.js';
export { designFromSpec, hostGwLabSpec, seedLabSpec, simulatorFromSpec } from './spec.js';
