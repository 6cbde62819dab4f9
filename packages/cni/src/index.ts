/**
 * @podnet/cni — CNI designs for podnet: the CNI contract (configs, plugins, results), host-local IPAM, the
 * bridge plugin, flannel (VXLAN, host-gw), calico, cilium, the AWS VPC CNI, native VPC routing, broken designs.
 */
export type { BridgeOptions } from './designs/bridge.js';
export { bridge } from './designs/bridge.js';
export { broken } from './designs/broken.js';
export type { NetworkConfigList, ParsedNetworkConfig, PluginConfig } from './contract/config.js';
export { CNI_ERROR_CODES, parseNetworkConfig, SUPPORTED_CNI_VERSIONS } from './contract/config.js';
export type { ConflistOptions, NodeAgent } from './contract/conflist-design.js';
export { fromConflist } from './contract/conflist-design.js';
export type { CniCommand, CniInvocation, FlannelSubnetEnv, IpamStores, Plugin, PluginInput, PluginOutcome } from './contract/plugins.js';
export { CNI_PATH, execPlugin, flannelDelegate, parseSubnetEnv, PLUGINS, SUBNET_ENV, vethName } from './contract/plugins.js';
export type { CurrentResult, LegacyResult } from './contract/result.js';
export { currentOf, printResult } from './contract/result.js';
export type { ListOutcome } from './contract/runtime.js';
export { addNetworkList, checkNetworkList, delNetworkList, validateInvocation } from './contract/runtime.js';
export type { FlannelMistake, FlannelOptions } from './designs/flannel.js';
export { flannel, FLANNEL_CONFLIST, flannelAgent, flanneldLog, flannelNetConf, vtepMac } from './designs/flannel.js';
export type { HostLocalConfig, HostLocalOwner, HostLocalRange, HostLocalResult, HostLocalStore, IpamError, IpamRoute, RangeSet } from './ipam/host-local.js';
export {
  allocateFromSet, allocateOnSubnet, canonicalRange, canonicalRangeSet, defaultRange, EMPTY_HOST_LOCAL, hostLocalAdd, hostLocalCheck, hostLocalDel,
  loadHostLocalConfig, rangeSetText, rangeText,
} from './ipam/host-local.js';
export type { ClusterSpecJson } from './spec.js';
export { designFromSpec, hostGwLabSpec, seedLabSpec, simulatorFromSpec } from './spec.js';
export type { CalicoBgpOptions, CalicoBgpPeer, CalicoBlockInfo, CalicoClusterState, CalicoNodeState, CalicoOptions } from './designs/calico.js';
export { calico, calicoBgpPeers, calicoBlocks, calicoNodeStatus, calicoVethName, calicoVtepMac, CALICO_GATEWAY, CALICO_VETH_MAC } from './designs/calico.js';
export type { CalicoAssignment, CalicoBlock, CalicoIpamError, CalicoIpamState, CalicoNodeIpam } from './ipam/calico-ipam.js';
export type { AwsEni, AwsNodeState, AwsVpcOptions, InstanceLimits } from './designs/aws-vpc.js';
export {
  AWS_NO_IP_MESSAGE, awsEnis, awsInstanceType, awsMaxPods, awsNodesPerSubnet, awsVethName, awsVpc, eniId, INSTANCE_TYPES, instanceLimits, IPAMD_NO_IP_MESSAGE,
} from './designs/aws-vpc.js';
export type { CiliumOptions } from './designs/cilium.js';
export { cilium, ciliumIdentity, lxcName } from './designs/cilium.js';
export type { NativeVpcOptions } from './designs/native-vpc.js';
export { gkeVethName, nativeVpc } from './designs/native-vpc.js';
export { recordActions } from './record.js';
