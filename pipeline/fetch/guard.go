package fetch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// deniedPrefixes are the ranges a feed may never make the fetcher reach
// unless the allow-list names them: the mission's own network, the host
// itself and cloud metadata endpoints live there.
var deniedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network", unspecified
		"10.0.0.0/8",      // RFC 1918
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata
		"172.16.0.0/12",   // RFC 1918
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.168.0.0/16",  // RFC 1918
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b::/96",    // NAT64 (embeds an IPv4 address)
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // deprecated site-local
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// allowList is Fetch.Allow parsed: CIDRs, single addresses, host names and
// host:port pairs that may be reached although private.
type allowList struct {
	prefixes []netip.Prefix
	hosts    map[string]bool // lower-case host names, or host:port
}

func parseAllowList(entries []string) (allowList, error) {
	a := allowList{hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if strings.ContainsAny(e, "/ ") {
			return a, fmt.Errorf("ingest: fetch.allow entry %q: want a CIDR, an address, a host name or host:port", e)
		}
		a.hosts[strings.ToLower(e)] = true
	}
	return a, nil
}

// allowsHost reports whether addr ("host:port" as dialled) is allowed by
// name, either as host or as exact host:port.
func (a allowList) allowsHost(addr string) bool {
	if a.hosts[strings.ToLower(addr)] {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return a.hosts[strings.ToLower(host)]
}

func (a allowList) allowsIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// IsPublicAddress reports whether ip is a globally routable unicast address
// the fetcher may reach without an allow-list entry.
func IsPublicAddress(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("")
	for _, cand := range []netip.Addr{ip, ip.Unmap()} {
		for _, p := range deniedPrefixes {
			if p.Contains(cand) {
				return false
			}
		}
	}
	// NAT64 and 6to4 embed an IPv4 address; judge the embedded one.
	if ip.Is6() && !ip.Is4In6() {
		b := ip.As16()
		if b[0] == 0x20 && b[1] == 0x02 { // 2002::/16 6to4
			v4 := netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
			return IsPublicAddress(v4)
		}
	}
	return ip.IsGlobalUnicast()
}

// checkAddress is the connect-time decision for one resolved address.
func (a allowList) checkAddress(dialled string, ip netip.Addr) error {
	if IsPublicAddress(ip) || a.allowsIP(ip) {
		return nil
	}
	return fmt.Errorf("%w: %s resolves to %s", ErrPrivateAddress, dialled, ip)
}

// Guard is the connect-time SSRF guard: it refuses to connect to any
// address that is not public unless the allow-list names it. The decision
// is taken on the address actually dialled, after DNS and after every
// redirect, so neither rebinding nor a redirect reaches the mission's own
// network. The fetcher dials through one; so does any other outbound client
// that takes URLs from configuration or data (alert webhooks).
type Guard struct {
	allow   allowList
	timeout time.Duration
}

// NewGuard parses the allow-list (CIDRs, addresses, host names, host:port).
func NewGuard(allow []string, connectTimeout time.Duration) (*Guard, error) {
	a, err := parseAllowList(allow)
	if err != nil {
		return nil, err
	}
	if connectTimeout <= 0 {
		connectTimeout = 10 * time.Second
	}
	return &Guard{allow: a, timeout: connectTimeout}, nil
}

// DialContext connects like net.Dialer.DialContext, refusing addresses the
// guard does not allow with ErrPrivateAddress.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: g.timeout, KeepAlive: 30 * time.Second}
	if !g.allow.allowsHost(addr) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot read address %q", ErrPrivateAddress, address)
			}
			return g.allow.checkAddress(addr, ap.Addr())
		}
	}
	return d.DialContext(ctx, network, addr)
}
