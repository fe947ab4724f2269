// The raw ceiling client and the fixture makers, on client-go with no client-side limit.
//
// The ceiling is the simplest fast client one would write: list the pods (500 a page), then
// merge-patch one label on each with C requests in flight. client-go speaks HTTP/2 by default
// (every request multiplexed on one connection); --http1 forces HTTP/1.1 with a pool of C
// connections, as kube-rs does.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// newClient builds a clientset from a kubeconfig with no client-side rate limit.
func newClient(kubeconfig string, concurrency int, http1 bool) (*kubernetes.Clientset, *rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS = -1 // no client-side limiter at all
	cfg.Burst = 0
	cfg.Timeout = 60 * time.Second
	cfg.UserAgent = "pearl-bench"
	if http1 {
		// HTTP/1.1 only, keep one idle connection per worker so none is re-opened.
		cfg.TLSClientConfig.NextProtos = []string{"http/1.1"}
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			if t, ok := rt.(*http.Transport); ok {
				t.MaxIdleConnsPerHost = concurrency + 4
				t.ForceAttemptHTTP2 = false
				t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			return rt
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cs, cfg, nil
}

// listPodNames lists pod names (all pages, 500 a page).
func listPodNames(ctx context.Context, cs *kubernetes.Clientset, ns, selector string) ([]string, error) {
	var names []string
	cont := ""
	for {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector, Limit: 500, Continue: cont})
		if err != nil {
			return nil, fmt.Errorf("list pods in %s: %w", ns, err)
		}
		for _, p := range l.Items {
			names = append(names, p.Name)
		}
		if l.Continue == "" {
			return names, nil
		}
		cont = l.Continue
	}
}

// runConcurrent calls f(i) for i in [0,n) with c goroutines; returns the number of errors
// and the first one.
func runConcurrent(n, c int, f func(i int) error) (int64, error) {
	var next, failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if e, ok := first.Load().(error); ok {
		return failed.Load(), e
	}
	return 0, nil
}

// CeilingResult is what `ceiling` prints (one JSON line).
type CeilingResult struct {
	Pods        int     `json:"pods"`
	Concurrency int     `json:"concurrency"`
	ListSeconds float64 `json:"listSeconds"`
	PatchSecs   float64 `json:"patchSeconds"`
	PatchPerSec float64 `json:"patchPerSec"`
	Errors      int64   `json:"errors"`
	HTTP1       bool    `json:"http1"`
}

func ceilingMain(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
	kc := fs.String("kubeconfig", "", "kubeconfig")
	ns := fs.String("namespace", "default", "namespace")
	sel := fs.String("selector", "", "label selector")
	c := fs.Int("concurrency", 32, "requests in flight")
	key := fs.String("key", "bench/run", "label key")
	value := fs.String("value", "", "label value")
	http1 := fs.Bool("http1", false, "HTTP/1.1 only (one connection per request in flight, like kube-rs)")
	fs.Parse(args)
	cs, _, err := newClient(*kc, *c, *http1)
	if err != nil {
		return err
	}
	ctx := context.Background()
	t0 := time.Now()
	names, err := listPodNames(ctx, cs, *ns, *sel)
	if err != nil {
		return err
	}
	t1 := time.Now()
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{*key: *value}}})
	failed, ferr := runConcurrent(len(names), *c, func(i int) error {
		_, err := cs.CoreV1().Pods(*ns).Patch(ctx, names[i], types.MergePatchType, body, metav1.PatchOptions{})
		if err != nil {
			return fmt.Errorf("patch pod %s/%s: %w", *ns, names[i], err)
		}
		return nil
	})
	t2 := time.Now()
	res := CeilingResult{
		Pods: len(names), Concurrency: *c, HTTP1: *http1, Errors: failed,
		ListSeconds: t1.Sub(t0).Seconds(), PatchSecs: t2.Sub(t1).Seconds(),
		PatchPerSec: float64(len(names)) / t2.Sub(t1).Seconds(),
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if ferr != nil {
		return fmt.Errorf("%d patches failed; first: %w", failed, ferr)
	}
	return nil
}

// PodSpecKind says how fixture pods behave.
type PodSpecKind int

const (
	// Gated pods stay Pending with a scheduling gate: no scheduler, no kwok, no status churn.
	Gated PodSpecKind = iota
	// Healthy pods are gated too, but their status is then written Running and Ready (as a
	// kubelet would): a healthy namespace with no kubelet, scheduler or kwok writing to it.
	// (Pods bound to kwok nodes looked more real, but kwok on 2 loaded cores could not keep
	// 20,000 pods and its node leases up to date: the nodes went NotReady and the taint manager
	// evicted every pod, which swamped the API server for the rest of the run.)
	Healthy
)

// healthyStatus is the status subresource patch that makes a gated pod Running and Ready.
var healthyStatus = []byte(`{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"},` +
	`{"type":"ContainersReady","status":"True"}],"containerStatuses":[{"name":"app","ready":true,"started":true,` +
	`"image":"registry.example/bench:1","imageID":"","restartCount":0,` +
	`"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}`)

func benchPod(name string, labels map[string]string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/bench:1"}},
		},
	}
	p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "pearl.bench/hold"}}
	return p
}

// createPods creates pods prefix-<from>..prefix-<to-1>, c at a time (already existing is fine).
func createPods(ctx context.Context, cs *kubernetes.Clientset, ns, prefix string, from, to, c int,
	labels map[string]string, kind PodSpecKind) error {
	_, err := runConcurrent(to-from, c, func(i int) error {
		n := from + i
		_, err := cs.CoreV1().Pods(ns).Create(ctx, benchPod(fmt.Sprintf("%s-%05d", prefix, n), labels),
			metav1.CreateOptions{})
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("create pod %s/%s-%05d: %w", ns, prefix, n, err)
		}
		if kind == Healthy {
			_, err = cs.CoreV1().Pods(ns).Patch(ctx, fmt.Sprintf("%s-%05d", prefix, n), types.MergePatchType,
				healthyStatus, metav1.PatchOptions{}, "status")
			if err != nil {
				return fmt.Errorf("make pod %s/%s-%05d Running: %w", ns, prefix, n, err)
			}
		}
		return nil
	})
	return err
}

// createDeployments creates n Deployments (0 replicas, gated pod template) named prefix-NNN.
func createDeployments(ctx context.Context, cs *kubernetes.Clientset, ns, prefix string, n, c int,
	labels map[string]string) error {
	_, err := runConcurrent(n, c, func(i int) error {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		sel := map[string]string{"bench-deployment": name}
		tmpl := map[string]string{"bench-deployment": name}
		zero := int32(0)
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: &zero,
				Selector: &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: tmpl},
					Spec: corev1.PodSpec{
						Containers:      []corev1.Container{{Name: "app", Image: "registry.example/bench:1"}},
						SchedulingGates: []corev1.PodSchedulingGate{{Name: "pearl.bench/hold"}},
					},
				},
			},
		}
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("create deployment %s/%s: %w", ns, name, err)
		}
		return nil
	})
	return err
}

// ensureNamespace creates ns if missing.
func ensureNamespace(ctx context.Context, cs *kubernetes.Clientset, ns string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// waitNotPending waits until no pod of ns is outside phase Running (kwok has started them all).
func waitAllRunning(ctx context.Context, cs *kubernetes.Clientset, ns string, timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	for {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "status.phase!=Running", Limit: 1})
		if err != nil {
			// A loaded server may time out scanning 20,000 pods: keep trying until the deadline.
			if time.Since(t0) > timeout {
				return 0, fmt.Errorf("list pods not running in %s: %w", ns, err)
			}
			time.Sleep(2 * time.Second)
			continue
		}
		if len(l.Items) == 0 {
			return time.Since(t0), nil
		}
		if time.Since(t0) > timeout {
			return 0, fmt.Errorf("pods in %s still not Running after %s (e.g. %s: %s)", ns, timeout,
				l.Items[0].Name, l.Items[0].Status.Phase)
		}
		time.Sleep(2 * time.Second)
	}
}

// requestCount sums apiserver_request_total for a verb and resource from the server's /metrics:
// the object itself and its /scale subresource, NOT /status (kwok's status writes to the pods
// it runs would otherwise be counted as ours).
func requestCount(ctx context.Context, cfg *rest.Config, verb, resource string) (int64, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	var total float64
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		if !strings.Contains(line, `verb="`+verb+`"`) || !strings.Contains(line, `resource="`+resource+`"`) {
			continue
		}
		if !strings.Contains(line, `subresource=""`) && !strings.Contains(line, `subresource="scale"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total += v
		}
	}
	return int64(total), nil
}
