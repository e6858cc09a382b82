// The family of an address that Node or parseAddress() already took for an IP address: an
// IPv6 one always holds a colon, an IPv4 one never does. net.isIPv6() says the same, but
// compiles Node's IPv6 regular expression at its first call: 3.5 to 4.7 ms (and 100 KB) of a
// process's start on the bench host, which an `overseer run` or overseer/cluster worker paid on
// its way to ready and every master at its first bind.

/** 6 for an IPv6 address, 4 for an IPv4 one or none (''). */
export function ipFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}
