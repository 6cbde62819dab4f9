# The seed lab built by hand in network namespaces, shared by the scripts that record it (seed-lab-kernel.sh,
# tcpdump-verbose.sh): three nodes on one wire (a bridge with the gateway 192.168.1.1, which does not
# forward), cni0 with a veth per pod, flannel.1 with flannel's routes, neighbours and fdb entries, and
# podnet's own MACs and veth names, so lines compare character for character.
# Source it, then call seed_lab_build with $P set and the namespaces ${P}wire, ${P}n1..n3 and ${P}pa..pf made
# (seed_lab_namespaces makes them).

# The seed lab's namespaces (NSES), each with IPv6 off (no router solicitation or MLD report on any wire) and lo up;
# a scratch directory $T; and a trap that deletes them all and $T on exit, also on failure. Needs $P.
seed_lab_namespaces(){
  NSES="wire n1 n2 n3 pa pb pc pd pe pf"
  T=$(mktemp -d /tmp/${P}XXXX)
  cleanup(){ for n in $NSES; do ip netns del ${P}$n 2>/dev/null; done; rm -rf "$T"; }
  trap cleanup EXIT INT TERM
  local n
  for n in $NSES; do ip netns add ${P}$n; ip netns exec ${P}$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; ip -n ${P}$n link set lo up; done
}

seed_lab_build(){
  W=${P}wire
  ip -n $W link add br0 type bridge; ip -n $W link set br0 up; ip -n $W addr add 192.168.1.1/24 dev br0
  declare -A EMAC=([1]=0a:33:c8:d9:e8:39 [2]=02:e5:5b:7a:61:32 [3]=06:85:fa:83:7c:9b)
  declare -A FMAC=([1]=56:bd:ce:ac:9b:ae [2]=5a:bd:d3:65:b2:19 [3]=5a:bd:d1:d2:c8:84)
  declare -A CMAC=([1]=26:9c:f5:29:3d:37 [2]=22:9c:f0:70:80:78 [3]=22:9c:f2:03:6a:0d)
  local i j N
  for i in 1 2 3; do
    N=${P}n$i
    ip -n $W link add w$i type veth peer name eth0 netns $N
    ip -n $W link set w$i master br0 up
    ip -n $N link set eth0 address ${EMAC[$i]} up
    ip -n $N addr add 192.168.1.1$i/24 dev eth0
    ip -n $N route add default via 192.168.1.1 dev eth0
    ip netns exec $N sysctl -qw net.ipv4.ip_forward=1
    ip -n $N link add flannel.1 type vxlan id 1 local 192.168.1.1$i dev eth0 dstport 8472 nolearning
    ip -n $N link set flannel.1 address ${FMAC[$i]} mtu 1450 up
    ip -n $N addr add 10.244.$i.0/32 dev flannel.1
    ip -n $N link add cni0 type bridge
    ip -n $N link set cni0 address ${CMAC[$i]} mtu 1450 up
    ip -n $N addr add 10.244.$i.1/24 dev cni0
    for j in 1 2 3; do [ $i = $j ] && continue
      ip -n $N route add 10.244.$j.0/24 via 10.244.$j.0 dev flannel.1 onlink
      ip -n $N neigh add 10.244.$j.0 lladdr ${FMAC[$j]} dev flannel.1 nud permanent
      bridge -n $N fdb append ${FMAC[$j]} dev flannel.1 dst 192.168.1.1$j self permanent
    done
  done
  seed_lab_pod pa 1 veth19fd34b4 7a:0d:09:3b:59:ad a2:d8:7f:1d:63:ef 10.244.1.4
  seed_lab_pod pb 1 veth1cfd396d e2:a6:53:4e:40:3a 4a:4c:bf:0c:45:a0 10.244.1.5
  seed_lab_pod pc 2 veth1bfd37da 2a:cc:79:ca:a7:90 12:aa:a8:05:ca:6b 10.244.2.3
  seed_lab_pod pd 2 veth16fd2ffb 9a:a3:41:e2:cc:68 66:85:1a:61:b5:9d 10.244.2.7
  seed_lab_pod pe 3 veth15fd2e68 ca:82:24:a0:72:14 d2:3b:85:5c:cf:da 10.244.3.2
  seed_lab_pod pf 3 veth18fd3321 aa:88:d6:c9:95:7b c2:4a:66:4f:26:35 10.244.3.9
}

# seed_lab_pod NSNAME NODE VETH VETHMAC PODMAC IP: a pod's namespace wired to its node's cni0 as the bridge
# plugin wires it (flannel's hairpin mode on the port).
seed_lab_pod(){ local Q=${P}$1 N=${P}n$2
  ip -n $N link add $3 mtu 1450 type veth peer name eth0 netns $Q
  ip -n $N link set $3 address $4 master cni0 up
  bridge -n $N link set dev $3 hairpin on
  ip -n $Q link set eth0 address $5 mtu 1450 up
  ip -n $Q addr add $6/24 dev eth0
  ip -n $Q route add default via 10.244.$2.1
  ip -n $Q route add 10.244.0.0/16 via 10.244.$2.1 dev eth0
}
