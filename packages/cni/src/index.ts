/** @podnet/cni — CNI designs for podnet: host-local IPAM, flannel (VXLAN) and calico (BGP, IPIP, VXLAN; calico-ipam). */
export type { FlannelOptions } from './designs/flannel.js';
export { flannel, vethName, vtepMac } from './designs/flannel.js';
export type { HostLocalRange, HostLocalState, IpamError } from './ipam/host-local.js';
export { allocate, defaultRange, EMPTY_HOST_LOCAL, release } from './ipam/host-local.js';
export type { ClusterSpecJson } from './spec.js';
export { designFromSpec, seedLabSpec, simulatorFromSpec } from './spec.js';
export type { CalicoBgpOptions, CalicoBgpPeer, CalicoBlockInfo, CalicoClusterState, CalicoNodeState, CalicoOptions } from './designs/calico.js';
export { calico, calicoBgpPeers, calicoBlocks, calicoNodeStatus, calicoVethName, calicoVtepMac, CALICO_GATEWAY, CALICO_VETH_MAC } from './designs/calico.js';
export type { CalicoAssignment, CalicoBlock, CalicoIpamError, CalicoIpamState, CalicoNodeIpam } from './ipam/calico-ipam.js';
