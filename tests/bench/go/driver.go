// The benchmark driver (`pearl-bench bench`): makes the fixtures on the benchmark cluster, runs
// every case with kubectl, kubectl-pearl (task file and Rhai script) and the raw ceiling, on
// loopback and through the latency proxy, counts the PATCH requests the API server received,
// and writes a JSON file and a Markdown table of medians.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Run is one timed execution.
type Run struct {
	Seconds   float64 `json:"seconds"`
	MaxRSSKiB int64   `json:"maxRssKiB,omitempty"`
	Patches   int64   `json:"patches"` // PATCH requests on the resource the API server counted (-1: not counted)
	Gets      int64   `json:"gets"`    // GET requests (single objects and lists) on the resource
	Load1     float64 `json:"load1"`   // 1-minute load average when the run started
}

// Case is one row of the table: a tool on a group/env/size, with its repetitions.
type Case struct {
	Group   string `json:"group"` // label, rerun, scale, set-image, list
	Env     string `json:"env"`   // loopback, rtt20ms
	N       int    `json:"n"`
	Tool    string `json:"tool"`
	Workers int    `json:"workers,omitempty"`
	Runs    []Run  `json:"runs"`
	// Medians over Runs.
	MedianSeconds   float64 `json:"medianSeconds"`
	MedianRSSKiB    int64   `json:"medianMaxRssKiB,omitempty"`
	MedianPerSecond float64 `json:"medianObjectsPerSecond"`
	MedianPatches   int64   `json:"medianPatches"`
	// Ceiling's own patch-phase throughput (without process start and list), when Tool is ceiling.
	CeilingPatchPerSec []float64 `json:"ceilingPatchPerSec,omitempty"`
}

// Results is the JSON file.
type Results struct {
	Started   string            `json:"started"`
	Finished  string            `json:"finished"`
	Mode      string            `json:"mode"`
	Machine   map[string]string `json:"machine"`
	Command   string            `json:"command"`
	Reps      int               `json:"repetitions"`
	RTT       string            `json:"proxyRoundTrip"`
	Cases     []*Case           `json:"cases"`
	Fixtures  map[string]string `json:"fixtures"`
	LoadAfter string            `json:"loadAfter"`
}

type bench struct {
	ctx      context.Context
	kubectl  string
	pearl    string
	self     string
	work     string
	envs     []envCfg
	admin    *kubernetes.Clientset
	adminCfg *rest.Config
	reps     int
	counter  int
	res      *Results
	cases    map[string]*Case
	log      *os.File
	// The ceiling's own patch-phase PATCH/s per env|n|workers.
	ceilingRates map[string][]float64
	// save writes the JSON and the table (after every run, so a stopped run keeps its figures).
	save func()
}

type envCfg struct{ name, kubeconfig string }

func (b *bench) logf(format string, a ...any) {
	msg := fmt.Sprintf("[%s] ", time.Now().Format("15:04:05")) + fmt.Sprintf(format, a...)
	fmt.Fprintln(os.Stderr, msg)
	if b.log != nil {
		fmt.Fprintln(b.log, msg)
	}
}

func (b *bench) nextValue() string {
	b.counter++
	return fmt.Sprintf("r%d", b.counter)
}

func load1() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(raw))[0], 64)
	return v
}

// timed runs a command with stdout to /dev/null (or captured when out != nil) and returns its
// wall time and peak RSS. The RSS comes from GNU time (/usr/bin/time -f %M) run in between: our
// own rusage of a child is useless here, because Linux carries the parent's high-water RSS
// (this driver's, shared while Go forks with CLONE_VM) over the exec into the child's maxrss.
func timed(out *bytes.Buffer, name string, args ...string) (Run, error) {
	rssFile, err := os.CreateTemp("", "pearl-bench-rss")
	if err != nil {
		return Run{}, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile.Name(), name}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out != nil {
		cmd.Stdout = out
	}
	t0 := time.Now()
	err = cmd.Run()
	r := Run{Seconds: time.Since(t0).Seconds(), Patches: -1, Gets: -1}
	if raw, rerr := os.ReadFile(rssFile.Name()); rerr == nil {
		lines := strings.Fields(string(raw))
		if len(lines) > 0 {
			r.MaxRSSKiB, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
		}
	}
	if err != nil {
		tail := stderr.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return r, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, tail)
	}
	return r, nil
}

// counted wraps f with the API server's request counters for resource (PATCH and GET).
func (b *bench) counted(resource string, f func() (Run, error)) (Run, error) {
	p0, err := requestCount(b.ctx, b.adminCfg, "PATCH", resource)
	if err != nil {
		return Run{}, err
	}
	g0, _ := requestCount(b.ctx, b.adminCfg, "GET", resource)
	l0, _ := requestCount(b.ctx, b.adminCfg, "LIST", resource)
	load := load1()
	r, err := f()
	if err != nil {
		return r, err
	}
	p1, err := requestCount(b.ctx, b.adminCfg, "PATCH", resource)
	if err != nil {
		return r, err
	}
	g1, _ := requestCount(b.ctx, b.adminCfg, "GET", resource)
	l1, _ := requestCount(b.ctx, b.adminCfg, "LIST", resource)
	r.Patches, r.Gets, r.Load1 = p1-p0, (g1-g0)+(l1-l0), load
	return r, nil
}

func (b *bench) record(group, env string, n int, tool string, workers int, r Run) *Case {
	key := fmt.Sprintf("%s|%s|%d|%s|%d", group, env, n, tool, workers)
	c, ok := b.cases[key]
	if !ok {
		c = &Case{Group: group, Env: env, N: n, Tool: tool, Workers: workers}
		b.cases[key] = c
		b.res.Cases = append(b.res.Cases, c)
	}
	c.Runs = append(c.Runs, r)
	if b.save != nil {
		b.save()
	}
	b.logf("  %-9s %-8s n=%-6d %-18s w=%-3d %8.2fs  patches=%-6d gets+lists=%-6d rss=%dMiB load=%.1f",
		group, env, n, tool, workers, r.Seconds, r.Patches, r.Gets, r.MaxRSSKiB/1024, r.Load1)
	return c
}

func (b *bench) writeFile(name, content string) string {
	p := filepath.Join(b.work, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		panic(err)
	}
	return p
}

// countLabelled counts pods of ns carrying key=value.
func (b *bench) countLabelled(ns, value string) (int, error) {
	names, err := listPodNames(b.ctx, b.admin, ns, "app=bench,bench/run="+value)
	return len(names), err
}

func (b *bench) pearlRun(kubeconfig string, workers int, file string, extra ...string) (Run, error) {
	args := append([]string{"run", "--kubeconfig", kubeconfig, "--workers", strconv.Itoa(workers)}, extra...)
	args = append(args, file)
	return timed(nil, b.pearl, args...)
}

// ---------------------------------------------------------------------------- label / re-run

func (b *bench) labelTaskFile(ns, value string) string {
	return b.writeFile("label.yaml", fmt.Sprintf(`- name: label-every-pod
  type: label-pods
  namespace: %s
  parameters:
    selector: app=bench
    labels:
      bench/run: %q
    maxObjects: 1000000
`, ns, value))
}

const labelScript = `// label every pod of ARGS.ns with bench/run=ARGS.value (one PATCH per pod that needs it);
// list_pod_meta fetches metadata only, which is all label_pods needs
let pods = list_pod_meta(ARGS.ns, "app=bench");
label_pods(pods, #{"bench/run": ARGS.value})
`

func (b *bench) labelOnce(env envCfg, ns string, n int, tool string, workers int, value string) (Run, error) {
	var run func() (Run, error)
	switch tool {
	case "kubectl":
		run = func() (Run, error) {
			return timed(nil, b.kubectl, "--kubeconfig", env.kubeconfig, "-n", ns, "label", "pods", "-l", "app=bench",
				"bench/run="+value, "--overwrite")
		}
	case "pearl-task":
		file := b.labelTaskFile(ns, value)
		run = func() (Run, error) { return b.pearlRun(env.kubeconfig, workers, file) }
	case "pearl-rhai":
		file := b.writeFile("label.rhai", labelScript)
		run = func() (Run, error) {
			return b.pearlRun(env.kubeconfig, workers, file, "--arg", "ns="+ns, "--arg", "value="+value)
		}
	case "ceiling", "ceiling-http1":
		run = func() (Run, error) {
			var out bytes.Buffer
			r, err := timed(&out, b.self, "ceiling", "--kubeconfig", env.kubeconfig, "--namespace", ns,
				"--selector", "app=bench", "--concurrency", strconv.Itoa(workers), "--value", value,
				"--http1="+strconv.FormatBool(tool == "ceiling-http1"))
			if err == nil && tool == "ceiling" {
				var cr CeilingResult
				if json.Unmarshal(out.Bytes(), &cr) == nil {
					b.ceilingRates[fmt.Sprintf("%s|%d|%d", env.name, n, workers)] =
						append(b.ceilingRates[fmt.Sprintf("%s|%d|%d", env.name, n, workers)], cr.PatchPerSec)
				}
			}
			return r, err
		}
	}
	r, err := b.counted("pods", run)
	if err != nil {
		return r, err
	}
	got, err := b.countLabelled(ns, value)
	if err != nil {
		return r, err
	}
	if got != n {
		return r, fmt.Errorf("%s at %d workers: %d of %d pods carry bench/run=%s afterwards", tool, workers, got, n, value)
	}
	return r, nil
}

func (b *bench) labelCases(sizes, workers []int, w1Max int, http1 bool) error {
	tools := []string{"ceiling", "pearl-task", "pearl-rhai"}
	if http1 {
		tools = append(tools, "ceiling-http1")
	}
	for _, n := range sizes {
		ns := fmt.Sprintf("bench-label-%d", n)
		if err := b.fixturePods(ns, n, Gated); err != nil {
			return err
		}
		for _, env := range b.envs {
			b.logf("label %d pods, %s", n, env.name)
			last := ""
			for rep := 0; rep < b.reps; rep++ {
				last = b.nextValue()
				r, err := b.labelOnce(env, ns, n, "kubectl", 0, last)
				if err != nil {
					return err
				}
				b.record("label", env.name, n, "kubectl", 0, r)
				for _, w := range workers {
					if w == 1 && n > w1Max {
						continue
					}
					for _, tool := range tools {
						last = b.nextValue()
						r, err := b.labelOnce(env, ns, n, tool, w, last)
						if err != nil {
							return err
						}
						b.record("label", env.name, n, tool, w, r)
					}
				}
			}
			// Re-run: every pod already carries `last`.
			b.logf("re-run with nothing to change, %d pods, %s", n, env.name)
			for rep := 0; rep < b.reps; rep++ {
				for _, tool := range []string{"kubectl", "pearl-task", "pearl-rhai"} {
					w := 32
					if tool == "kubectl" {
						w = 0
					}
					r, err := b.labelOnce(env, ns, n, tool, w, last)
					if err != nil {
						return err
					}
					b.record("rerun", env.name, n, tool, w, r)
				}
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------- deployments

func (b *bench) deploymentCases(n int) error {
	ns := "bench-deploy"
	if err := ensureNamespace(b.ctx, b.admin, ns); err != nil {
		return err
	}
	if err := createDeployments(b.ctx, b.admin, ns, "web", n, 32, map[string]string{"app": "bench-dep"}); err != nil {
		return err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("web-%03d", i)
	}
	replicas := 0
	for _, env := range b.envs {
		b.logf("scale / set image on %d deployments, %s", n, env.name)
		for rep := 0; rep < b.reps; rep++ {
			// scale: each run flips the replica count so that every run changes every Deployment.
			for _, tool := range []string{"kubectl-loop", "pearl-task"} {
				replicas = 1 - replicas
				var r Run
				var err error
				if tool == "kubectl-loop" {
					r, err = b.counted("deployments", func() (Run, error) {
						return b.loop(env, ns, names, func(d string) []string {
							return []string{"scale", "deployment", d, "--replicas=" + strconv.Itoa(replicas)}
						})
					})
				} else {
					file := b.writeFile("scale.yaml", fmt.Sprintf(`- name: scale-every-deployment
  type: scale
  namespace: %s
  parameters:
    kind: Deployment
    selector: app=bench-dep
    replicas: %d
    maxObjects: 100000
`, ns, replicas))
					r, err = b.counted("deployments", func() (Run, error) { return b.pearlRun(env.kubeconfig, 32, file) })
				}
				if err != nil {
					return err
				}
				if err := b.checkDeployments(ns, n, func(d map[string]any) bool {
					return fmt.Sprint(dig(d, "spec", "replicas")) == strconv.Itoa(replicas)
				}); err != nil {
					return fmt.Errorf("scale with %s: %w", tool, err)
				}
				w := 0
				if tool != "kubectl-loop" {
					w = 32
				}
				b.record("scale", env.name, n, tool, w, r)
			}
			for _, tool := range []string{"kubectl-loop", "pearl-task"} {
				image := "registry.example/bench:" + b.nextValue()
				var r Run
				var err error
				if tool == "kubectl-loop" {
					r, err = b.counted("deployments", func() (Run, error) {
						return b.loop(env, ns, names, func(d string) []string {
							return []string{"set", "image", "deployment/" + d, "app=" + image}
						})
					})
				} else {
					file := b.writeFile("image.yaml", fmt.Sprintf(`- name: set-image-everywhere
  type: set-image
  namespace: %s
  parameters:
    kind: Deployment
    selector: app=bench-dep
    container: app
    image: %s
    maxObjects: 100000
`, ns, image))
					r, err = b.counted("deployments", func() (Run, error) { return b.pearlRun(env.kubeconfig, 32, file) })
				}
				if err != nil {
					return err
				}
				if err := b.checkDeployments(ns, n, func(d map[string]any) bool {
					cs, _ := dig(d, "spec", "template", "spec", "containers").([]any)
					return len(cs) == 1 && fmt.Sprint(cs[0].(map[string]any)["image"]) == image
				}); err != nil {
					return fmt.Errorf("set image with %s: %w", tool, err)
				}
				w := 0
				if tool != "kubectl-loop" {
					w = 32
				}
				b.record("set-image", env.name, n, tool, w, r)
			}
		}
	}
	return nil
}

// loop runs one kubectl per object, one after another, as a shell loop would.
func (b *bench) loop(env envCfg, ns string, names []string, args func(string) []string) (Run, error) {
	t0 := time.Now()
	var peak int64
	for _, d := range names {
		r, err := timed(nil, b.kubectl, append([]string{"--kubeconfig", env.kubeconfig, "-n", ns}, args(d)...)...)
		if err != nil {
			return r, err
		}
		peak = max(peak, r.MaxRSSKiB)
	}
	return Run{Seconds: time.Since(t0).Seconds(), MaxRSSKiB: peak, Patches: -1, Gets: -1}, nil
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func (b *bench) checkDeployments(ns string, n int, ok func(map[string]any) bool) error {
	raw, err := b.admin.AppsV1().RESTClient().Get().Namespace(ns).Resource("deployments").DoRaw(b.ctx)
	if err != nil {
		return fmt.Errorf("list deployments in %s: %w", ns, err)
	}
	var list struct{ Items []map[string]any }
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	good := 0
	for _, d := range list.Items {
		if ok(d) {
			good++
		}
	}
	if good != n {
		return fmt.Errorf("%d of %d deployments in %s hold the wanted state afterwards", good, n, ns)
	}
	return nil
}

// ---------------------------------------------------------------------------- list / health

func (b *bench) listCases(sizes []int) error {
	for _, n := range sizes {
		ns := fmt.Sprintf("bench-list-%d", n)
		listFile := b.writeFile("list.yaml", fmt.Sprintf("- name: list-every-pod\n  type: list-pods\n  namespace: %s\n", ns))
		healthFile := b.writeFile("health.yaml", fmt.Sprintf(
			"- name: health-of-every-pod\n  type: check-pod-health\n  namespace: %s\n  parameters:\n    reportOnly: true\n", ns))
		if err := b.fixturePods(ns, n, Healthy); err != nil {
			return err
		}
		for _, env := range b.envs {
			b.logf("list / health-check %d pods, %s", n, env.name)
			for rep := 0; rep < b.reps; rep++ {
				for _, tool := range []string{"kubectl", "pearl-list", "pearl-health"} {
					var run func() (Run, error)
					w := 0
					switch tool {
					case "kubectl":
						run = func() (Run, error) {
							return timed(nil, b.kubectl, "--kubeconfig", env.kubeconfig, "-n", ns, "get", "pods", "-o", "json")
						}
					case "pearl-list":
						w = 32
						run = func() (Run, error) { return b.pearlRun(env.kubeconfig, 32, listFile) }
					case "pearl-health":
						w = 32
						run = func() (Run, error) { return b.pearlRun(env.kubeconfig, 32, healthFile) }
					}
					r, err := b.counted("pods", run)
					if err != nil {
						return err
					}
					b.record("list", env.name, n, tool, w, r)
				}
			}
		}
	}
	return nil
}

// fixturePods makes sure ns holds exactly pods bench-00000..bench-<n-1> (labelled app=bench).
func (b *bench) fixturePods(ns string, n int, kind PodSpecKind) error {
	if err := ensureNamespace(b.ctx, b.admin, ns); err != nil {
		return err
	}
	have, err := listPodNames(b.ctx, b.admin, ns, "app=bench")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := createPods(b.ctx, b.admin, ns, "bench", len(have), n, 64, map[string]string{"app": "bench"}, kind); err != nil {
		return err
	}
	created := time.Since(t0)
	b.res.Fixtures[fmt.Sprintf("%s: create %d pods", ns, n-len(have))] = created.Round(time.Millisecond).String()
	b.logf("fixture %s: %d pods created in %s", ns, n-len(have), created.Round(time.Millisecond))
	if kind == Healthy {
		waited, err := waitAllRunning(b.ctx, b.admin, ns, 15*time.Minute)
		if err != nil {
			return err
		}
		b.res.Fixtures[fmt.Sprintf("%s: wait until kwok runs %d pods", ns, n)] = waited.Round(time.Millisecond).String()
		b.logf("fixture %s: all %d pods Running after another %s", ns, n, waited.Round(time.Millisecond))
	}
	return nil
}

// ---------------------------------------------------------------------------- main

func intList(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			panic(fmt.Sprintf("not a number list: %q", s))
		}
		out = append(out, v)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func benchMain(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	kc := fs.String("kubeconfig", "", "the benchmark cluster's admin kubeconfig")
	kubectl := fs.String("kubectl", "kubectl", "kubectl binary")
	pearl := fs.String("pearl", "", "kubectl-pearl binary (release build)")
	out := fs.String("out", "", "JSON results file")
	table := fs.String("table", "", "Markdown table file")
	work := fs.String("work", "", "scratch dir")
	mode := fs.String("mode", "full", "full or quick (label for the results)")
	reps := fs.Int("reps", 3, "repetitions per case")
	labelSizes := fs.String("label-sizes", "500,2000,5000", "pods to label")
	workers := fs.String("workers", "1,8,32,64", "worker counts for pearl and the ceiling")
	w1Max := fs.Int("w1-max", 1000000, "skip workers=1 above this many pods")
	deployments := fs.Int("deployments", 200, "deployments to scale / set image on (0: skip)")
	listSizes := fs.String("list-sizes", "1000,5000,20000", "pods to list / health-check")
	delay := fs.Duration("delay", 10*time.Millisecond, "proxy delay each way (round trip = 2x)")
	http1 := fs.Bool("ceiling-http1", false, "also run the ceiling over HTTP/1.1 (one connection per request in flight, as kube-rs)")
	envs := fs.String("envs", "loopback,rtt", "where to run: loopback, rtt (through the proxy), or both")
	only := fs.String("only", "label,deploy,list", "case groups to run")
	command := fs.String("command", "", "the command line, for the record")
	fs.Parse(args)

	b := &bench{ctx: context.Background(), kubectl: *kubectl, pearl: *pearl, work: *work, reps: *reps,
		cases: map[string]*Case{}, ceilingRates: map[string][]float64{}}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.self = self
	if b.log, err = os.Create(filepath.Join(b.work, "bench.log")); err != nil {
		return err
	}
	b.admin, b.adminCfg, err = newClient(*kc, 64, false)
	if err != nil {
		return err
	}

	// The latency proxy and a kubeconfig copy pointing at it (same host 127.0.0.1, so the
	// serving certificate still verifies).
	raw, err := clientcmd.LoadFromFile(*kc)
	if err != nil {
		return err
	}
	var target string
	for _, c := range raw.Clusters {
		target = strings.TrimPrefix(c.Server, "https://")
	}
	proxy, err := StartProxy(target, *delay, 0)
	if err != nil {
		return err
	}
	defer proxy.Close()
	for _, c := range raw.Clusters {
		c.Server = "https://" + proxy.Addr()
	}
	proxyKC := filepath.Join(b.work, "proxy.kubeconfig")
	if err := clientcmd.WriteToFile(*raw, proxyKC); err != nil {
		return err
	}
	rttName := fmt.Sprintf("rtt%dms", (2 * *delay).Milliseconds())
	for _, e := range []envCfg{{"loopback", *kc}, {rttName, proxyKC}} {
		if strings.Contains(","+*envs+",", ","+e.name+",") || (e.name != "loopback" && strings.Contains(*envs, "rtt")) {
			b.envs = append(b.envs, e)
		}
	}
	b.logf("latency proxy %s -> %s (+%s each way)", proxy.Addr(), target, *delay)

	hostname, _ := os.Hostname()
	kv, _ := exec.Command(b.kubectl, "version", "--client", "-o", "json").Output()
	pv, _ := exec.Command(b.pearl, "version").Output()
	la, _ := os.ReadFile("/proc/loadavg")
	b.res = &Results{
		Started: time.Now().UTC().Format(time.RFC3339), Mode: *mode, Reps: *reps, Command: *command,
		RTT: (2 * *delay).String(), Fixtures: map[string]string{},
		Machine: map[string]string{
			"cores": strconv.Itoa(runtime.NumCPU()), "host": hostname, "loadBefore": strings.TrimSpace(string(la)),
			"kubectl": strings.Join(strings.Fields(string(kv)), " "), "pearl": strings.TrimSpace(string(pv)),
			"go": runtime.Version(),
		},
	}
	groups := strings.Split(*only, ",")
	has := func(g string) bool {
		for _, x := range groups {
			if x == g {
				return true
			}
		}
		return false
	}
	save := func() {
		b.finish()
		if *out != "" {
			j, _ := json.MarshalIndent(b.res, "", "  ")
			os.WriteFile(*out, append(j, '\n'), 0o644)
		}
		md := renderTable(b.res)
		if *table != "" {
			os.WriteFile(*table, []byte(md), 0o644)
		}
	}
	b.save = save
	var runErr error
	if has("label") {
		runErr = b.labelCases(intList(*labelSizes), intList(*workers), *w1Max, *http1)
		save()
	}
	if runErr == nil && has("deploy") && *deployments > 0 {
		runErr = b.deploymentCases(*deployments)
		save()
	}
	if runErr == nil && has("list") {
		runErr = b.listCases(intList(*listSizes))
		save()
	}
	la, _ = os.ReadFile("/proc/loadavg")
	b.res.LoadAfter = strings.TrimSpace(string(la))
	b.res.Finished = time.Now().UTC().Format(time.RFC3339)
	save()
	fmt.Print(renderTable(b.res))
	return runErr
}

// finish computes the medians.
func (b *bench) finish() {
	for _, c := range b.res.Cases {
		var secs, rss, patches []float64
		for _, r := range c.Runs {
			secs = append(secs, r.Seconds)
			rss = append(rss, float64(r.MaxRSSKiB))
			patches = append(patches, float64(r.Patches))
		}
		c.MedianSeconds = median(secs)
		c.MedianRSSKiB = int64(median(rss))
		c.MedianPatches = int64(median(patches))
		if c.MedianSeconds > 0 {
			c.MedianPerSecond = float64(c.N) / c.MedianSeconds
		}
		if c.Tool == "ceiling" {
			c.CeilingPatchPerSec = b.ceilingRates[fmt.Sprintf("%s|%d|%d", c.Env, c.N, c.Workers)]
		}
	}
}
