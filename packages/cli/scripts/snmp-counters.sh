# The SNMP counters of a network namespace and what moved between two readings, shared by the scripts that
# measure what the kernel counts for a packet (martian-formats.sh, own-source-formats.sh). Source it.

# snmp_counters NS NAME...: the counters NAME of /proc/net/snmp and /proc/net/netstat in NS (whatever their
# group: InReceives is IpInReceives, IPReversePathFilter TcpExtIPReversePathFilter), as GROUPNAME=VALUE
snmp_counters(){ local ns=$1; shift; ip netns exec "$ns" python3 - "$@" <<'PY'
import sys
want = set(sys.argv[1:])
out = []
for f in ('/proc/net/snmp', '/proc/net/netstat'):
    lines = open(f).read().split('\n')
    for h, v in zip(lines[0::2], lines[1::2]):
        if not h: continue
        p = h.split(':')[0]
        for k, val in zip(h.split()[1:], v.split()[1:]):
            if k in want: out.append(f'{p}{k}={val}')
print(' '.join(out))
PY
}

# snmp_delta BEFORE AFTER: the counters of two readings that changed, as NAME+DIFF, or `none`
snmp_delta(){ python3 - "$1" "$2" <<'PY'
import sys
a = dict(kv.split('=') for kv in sys.argv[1].split())
b = dict(kv.split('=') for kv in sys.argv[2].split())
print(' '.join(f'{k}+{int(b[k]) - int(a[k])}' for k in b if int(b[k]) != int(a[k])) or 'none')
PY
}
