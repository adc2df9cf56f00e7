/**
 * The spawn server written in Perl, used wherever a `perl` is on the PATH (every Debian and Ubuntu
 * system has one: perl-base is essential; so do macOS and most other Unixes). Perl forks a process of
 * a few MB, where Node forks its whole heap: measured on 500 launches of the worker wrapper, the
 * server spent 160 ms of CPU against 315 ms for the Node server, on the cores the workers need. It
 * uses only modules every Perl has (POSIX, Fcntl, Config, Errno).
 *
 * It speaks the protocol of line-spawn-protocol.ts. Where a C compiler built the native spawn server
 * (native/spawn-server.c), that one is used instead: see fork-server-launcher.ts.
 */
import { delimiter, join } from 'node:path';
import { isExecutable } from './is-executable.js';
import { lineSpawnServer } from './line-spawn-protocol.js';
import type { SpawnServer } from './spawn-server.js';

// No `use warnings`: the server's stderr is the engine's, and nothing there is for the user. Requests
// are counted in bytes: the user's PERL_UNICODE or PERL5OPT must not put a character layer on the
// pipes (`-C0` and `binmode`), though the processes it starts still get them in their environment.
const PROGRAM = String.raw`
use strict; use POSIX (); use Config; use Fcntl qw(F_SETFL O_NONBLOCK);
binmode STDIN; binmode STDOUT;
my @signame = split ' ', $Config{sig_name};
$| = 1;
pipe(my $wake_r, my $wake_w) or die "overseer spawn server: $!\n";
fcntl($_, F_SETFL, O_NONBLOCK) for $wake_r, $wake_w;
my %ids;
$SIG{CHLD} = sub { syswrite($wake_w, 'x') };
sub errname { my ($name) = grep { $!{$_} } keys %!; return $name // 'error' }
sub answer { my $text = join(' ', @_); $text =~ tr/\n/ /; print "$text\n" }
sub reap {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $status = $?;
    my $id = delete $ids{$pid};
    next unless defined $id;
    if ($status & 127) { answer('x', $id, '-', 'SIG' . $signame[$status & 127]) } else { answer('x', $id, $status >> 8, '-') }
  }
}
sub start_time {
  open(my $fh, '<', "/proc/$_[0]/stat") or return '-';
  my $stat = <$fh>;
  return '-' unless defined $stat;
  my @fields = split / /, substr($stat, rindex($stat, ')') + 2);
  return $fields[19] // '-';
}
sub launch {
  my ($id, $cwd, $log, $file, @rest) = @_;
  my @args = splice(@rest, 0, shift @rest);
  my @set = splice(@rest, 0, 2 * shift @rest);
  my @unset = splice(@rest, 0, shift @rest);
  open(my $logfh, '>>', $log) or return answer('e', $id, "cannot open log file $log: $!");
  pipe(my $err_r, my $err_w) or return answer('e', $id, "spawn $file " . errname());
  my $pid = fork;
  return answer('e', $id, "spawn $file " . errname()) unless defined $pid;
  if ($pid == 0) {
    close $err_r;
    POSIX::setsid();
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $logfh); open(STDERR, '>&', $logfh);
    my $failure;
    if (chdir $cwd) {
      while (@set) { my $name = shift @set; $ENV{$name} = shift @set }
      delete @ENV{@unset};
      exec { $file } $file, @args;
      $failure = "spawn $file " . errname();
    } else {
      $failure = "spawn $file " . errname() . " (cannot enter $cwd)";
    }
    syswrite $err_w, $failure;
    POSIX::_exit(127);
  }
  close $err_w; close $logfh;
  # The write end closes on exec: nothing read means the program runs.
  my $failure = '';
  while (1) {
    my $got = sysread($err_r, $failure, 4096, length $failure);
    next if !defined $got && $!{EINTR};
    last if !$got;
  }
  close $err_r;
  if ($failure ne '') { waitpid($pid, 0); return answer('e', $id, $failure) }
  $ids{$pid} = $id;
  answer('s', $id, $pid, start_time($pid));
}
answer('ready');
my $buffer = '';
my $watch = ''; vec($watch, fileno(STDIN), 1) = 1; vec($watch, fileno($wake_r), 1) = 1;
while (1) {
  # SIGCHLD wakes this select through the pipe, but Perl runs a handler between ops: a child that ends
  # after the last op and before select() starts leaves the wake-up pending until select returns. So
  # while processes run, select returns every 100 ms to reap what it may have missed.
  my $ready = select(my $readable = $watch, undef, undef, %ids ? 0.1 : undef);
  if ($ready < 0) { next if $!{EINTR}; last }
  if ($ready == 0) { reap(); next }
  if (vec($readable, fileno($wake_r), 1)) { 1 while sysread($wake_r, my $drained, 512); reap() }
  next unless vec($readable, fileno(STDIN), 1);
  my $got = sysread(STDIN, $buffer, 65536, length $buffer);
  if (!defined $got) { next if $!{EINTR} || $!{EAGAIN}; last }
  last if $got == 0;
  while ((my $newline = index($buffer, "\n")) >= 0) {
    my $size = substr($buffer, 0, $newline);
    last if length($buffer) < $newline + 1 + $size;
    launch(split /\0/, substr($buffer, $newline + 1, $size), -1);
    substr($buffer, 0, $newline + 1 + $size) = '';
  }
}
`;

/** The first `perl` on the PATH, or null. */
export function perlOnPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, 'perl'))) return join(dir, 'perl');
  }
  return null;
}

export function perlSpawnServer(perl: string): SpawnServer {
  return lineSpawnServer('perl', perl, ['-C0', '-e', PROGRAM]);
}
