/** @podnet/cni — CNI designs for podnet: flannel (VXLAN), cilium (tunnel, native), the AWS VPC CNI, native VPC routing (GKE, AKS kubenet), and host-local IPAM. */
export type { AwsNodeState, AwsVpcOptions, InstanceLimits } from './designs/aws-vpc.js';
export {
  AWS_NO_IP_MESSAGE, awsMaxPods, awsNodesPerSubnet, awsVethName, awsVpc, eniId, INSTANCE_TYPES, instanceLimits, IPAMD_NO_IP_MESSAGE,
} from './designs/aws-vpc.js';
export type { CiliumOptions } from './designs/cilium.js';
export { cilium, ciliumIdentity, lxcName } from './designs/cilium.js';
export type { FlannelOptions } from './designs/flannel.js';
export { flannel, vethName, vtepMac } from './designs/flannel.js';
export type { NativeVpcOptions } from './designs/native-vpc.js';
export { gkeVethName, nativeVpc } from './designs/native-vpc.js';
export type { HostLocalRange, HostLocalState, IpamError } from './ipam/host-local.js';
export { allocate, defaultRange, EMPTY_HOST_LOCAL, release } from './ipam/host-local.js';
export type { ClusterSpecJson } from './spec.js';
export { designFromSpec, seedLabSpec, simulatorFromSpec } from './spec.js';
export { recordActions } from './record.js';
