package bus

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of NATS servers on loopback, each with its
// own store: the topology of a production cluster on one machine, for fault
// tests and benchmarks. Nodes can be stopped and restarted on the same ports
// and data.
type Cluster struct {
	opts  []*server.Options
	nodes []*server.Server
}

// StartCluster starts n clustered JetStream servers storing under dir.
func StartCluster(dir string, n int) (*Cluster, error) {
	client, route := make([]int, n), make([]int, n)
	for i := range n {
		var err error
		if client[i], err = freePort(); err != nil {
			return nil, err
		}
		if route[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	c := &Cluster{nodes: make([]*server.Server, n)}
	for i := range n {
		var routes []*url.URL
		for j := range n {
			if j != i {
				routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", route[j])})
			}
		}
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("veille-%d", i+1),
			Host:       "127.0.0.1",
			Port:       client[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			NoSigs:     true,
			NoLog:      true,
			MaxPayload: 8 << 20,
			Cluster:    server.ClusterOpts{Name: "veille", Host: "127.0.0.1", Port: route[i]},
			Routes:     routes,
		})
	}
	for i := range n {
		if err := c.Start(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	return c, nil
}

// Start starts node i (again, after Stop).
func (c *Cluster) Start(i int) error {
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		return fmt.Errorf("bus: cluster node %d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("bus: cluster node %d not ready", i+1)
	}
	c.nodes[i] = s
	return nil
}

// Stop shuts node i down; its data stays for Start.
func (c *Cluster) Stop(i int) {
	if s := c.nodes[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.nodes[i] = nil
	}
}

// WaitReady waits until JetStream has a meta leader.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, s := range c.nodes {
			if s != nil && s.JetStreamIsLeader() {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("bus: cluster has no JetStream leader after %v", timeout)
}

// URLs is the client URL list of all nodes, comma-separated.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.opts))
	for i, o := range c.opts {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
	}
	return strings.Join(urls, ",")
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.nodes {
		c.Stop(i)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bus: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
