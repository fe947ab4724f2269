// pearl-bench: the benchmark's helper programs (issue 17).
//
//	pearl-bench bench ...     the whole benchmark (called by tests/bench/run)
//	pearl-bench ceiling ...   the raw ceiling client: merge-patch a label on every pod, C in flight
//	pearl-bench proxy ...     the TCP proxy adding latency each way (127.0.0.1 only)
//	pearl-bench pods ...      create N pods fast (fixtures)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func podsMain(args []string) error {
	fs := flag.NewFlagSet("pods", flag.ExitOnError)
	kc := fs.String("kubeconfig", "", "kubeconfig")
	ns := fs.String("namespace", "default", "namespace (created if missing)")
	n := fs.Int("count", 100, "pods")
	c := fs.Int("concurrency", 64, "creates in flight")
	running := fs.Bool("running", false, "write their status Running and Ready (default: scheduling-gated, Pending)")
	fs.Parse(args)
	cs, _, err := newClient(*kc, *c, false)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := ensureNamespace(ctx, cs, *ns); err != nil {
		return err
	}
	kind := Gated
	if *running {
		kind = Healthy
	}
	t0 := time.Now()
	if err := createPods(ctx, cs, *ns, "bench", 0, *n, *c, map[string]string{"app": "bench"}, kind); err != nil {
		return err
	}
	fmt.Printf("created %d pods in %s\n", *n, time.Since(t0).Round(time.Millisecond))
	if *running {
		d, err := waitAllRunning(ctx, cs, *ns, 15*time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("all Running after another %s\n", d.Round(time.Millisecond))
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pearl-bench bench|ceiling|proxy|pods [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "bench":
		err = benchMain(os.Args[2:])
	case "ceiling":
		err = ceilingMain(os.Args[2:])
	case "proxy":
		err = proxyMain(os.Args[2:])
	case "pods":
		err = podsMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (bench, ceiling, proxy, pods)", strings.Join(os.Args[1:2], ""))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pearl-bench:", err)
		os.Exit(1)
	}
}
