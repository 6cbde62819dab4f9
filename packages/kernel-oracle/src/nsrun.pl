#!/usr/bin/perl
# nsrun.pl: writes the settings of many network namespaces of a kernel-oracle run from one process.
#
# /proc/sys/net shows the network namespace of the process that opens it, so after entering a namespace
# with setns(2) (the syscall number for this machine's architecture is the first argument, given by
# kernel.ts) a sysctl is written from here, as `sysctl -w key=value` writes it, without starting
# `nsenter` and `sysctl` for each namespace. Only /run/netns/pno<pid>-… namespaces of an oracle run are
# accepted; nothing is written unless entering the namespace succeeded.
#
#   perl nsrun.pl NR    stdin: `S <TAB> idx <TAB> ns <TAB> key <TAB> value`, one write a line, in order.
#   The first that fails prints what sysctl would, then `ORACLE-FAILED idx`, and exits 97.
#
# No modules: loading POSIX or warnings costs more (~15 ms here) than the programs this saves.
use strict;

my ($nr) = @ARGV;
die "nsrun: usage: nsrun.pl SETNS_NR < steps\n" unless defined $nr && $nr =~ /^\d+$/;

while (my $line = <STDIN>) {
  chomp $line;
  next if $line eq '';
  my ($kind, $idx, $ns, $key, $value) = split /\t/, $line, -1;
  my $fail = sub { print STDERR @_, "ORACLE-FAILED $idx\n"; exit 97 };
  $fail->("nsrun: bad step \"$line\"\n") unless $kind eq 'S' && defined $value && $key =~ m{^[\w./-]+$};
  $fail->("nsrun: not a namespace of an oracle run: \"$ns\"\n") unless $ns =~ /^pno\d+-(?:[0-9a-z]+-[0-9a-z]+|probe)$/;
  open(my $fh, '<', "/run/netns/$ns") or $fail->("nsrun: cannot open /run/netns/$ns: $!\n");
  # CLONE_NEWNET
  syscall($nr, fileno($fh), 0x40000000) == 0 or $fail->("nsrun: setns into $ns: $!\n");
  close($fh);
  # procps sysctl: a key's dots are the path's slashes, and a slash in it (a device name with a dot) a dot.
  (my $path = $key) =~ tr{./}{/.};
  $path = "/proc/sys/$path";
  open(my $out, '>', $path) or $fail->("sysctl: cannot stat $path: $!\n");
  defined(syswrite($out, "$value\n")) or $fail->("sysctl: setting key \"$key\": $!\n");
  close($out) or $fail->("sysctl: setting key \"$key\": $!\n");
}
exit 0;
