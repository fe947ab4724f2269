// The latency proxy: passes TCP bytes through unchanged (TLS stays end to end, so the API
// server's certificate for 127.0.0.1 still verifies) and delays every chunk by a fixed time in
// each direction, as a cluster in a cloud region would. It delays, it does not throttle: chunks
// are queued with their due time, so a busy connection keeps its bandwidth.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Proxy listens on 127.0.0.1 only and forwards to Target, adding Delay each way.
type Proxy struct {
	Target   string
	Delay    time.Duration
	listener net.Listener
}

// StartProxy listens on 127.0.0.1:port (0 = a free port) and serves in the background.
func StartProxy(target string, delay time.Duration, port int) (*Proxy, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("proxy: listen on 127.0.0.1:%d: %w", port, err)
	}
	p := &Proxy{Target: target, Delay: delay, listener: ln}
	go p.serve()
	return p, nil
}

// Addr is the listening address (127.0.0.1:port).
func (p *Proxy) Addr() string { return p.listener.Addr().String() }

// Close stops accepting connections (open ones finish on their own).
func (p *Proxy) Close() error { return p.listener.Close() }

func (p *Proxy) serve() {
	for {
		c, err := p.listener.Accept()
		if err != nil {
			return
		}
		go p.handle(c.(*net.TCPConn))
	}
}

func (p *Proxy) handle(client *net.TCPConn) {
	defer client.Close()
	upstream, err := net.DialTimeout("tcp", p.Target, 10*time.Second)
	if err != nil {
		log.Printf("proxy: dial %s: %v", p.Target, err)
		return
	}
	server := upstream.(*net.TCPConn)
	defer server.Close()
	client.SetNoDelay(true)
	server.SetNoDelay(true)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); delayedCopy(server, client, p.Delay) }()
	go func() { defer wg.Done(); delayedCopy(client, server, p.Delay) }()
	wg.Wait()
}

type chunk struct {
	due  time.Time
	data []byte
}

// delayedCopy copies src to dst, each chunk written `delay` after it was read. At EOF it
// half-closes dst so the other side sees the end of the stream (after the delay too).
func delayedCopy(dst, src *net.TCPConn, delay time.Duration) {
	queue := make(chan chunk, 4096)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32*1024)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{due: time.Now().Add(delay), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	broken := false
	for c := range queue {
		if broken {
			continue // drain so the reader never blocks forever
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.data); err != nil {
			broken = true
			src.CloseRead()
		}
	}
	dst.CloseWrite()
}

// proxyMain: `pearl-bench proxy --target HOST:PORT [--delay 10ms] [--port 0]`; prints the
// listening address on stdout and serves until SIGINT/SIGTERM.
func proxyMain(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	target := fs.String("target", "", "HOST:PORT to forward to (the API server)")
	delay := fs.Duration("delay", 10*time.Millisecond, "delay added in EACH direction (round trip = 2x)")
	port := fs.Int("port", 0, "port to listen on at 127.0.0.1 (0: a free one)")
	fs.Parse(args)
	if *target == "" {
		return fmt.Errorf("proxy: --target is required")
	}
	p, err := StartProxy(*target, *delay, *port)
	if err != nil {
		return err
	}
	fmt.Println(p.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return p.Close()
}
