//! A script labelling 2,000 pods against the `label-pods` task on the same pods, same pool
//! settings. Prints both times and their ratio (the figures for the notes); asserts only what
//! the cluster holds afterwards, never a time (timings belong to the benchmark, not a test).

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::*;
use pearl::ops::{Cluster, DryRun};
use pearl::pool::{Pool, PoolConfig, RetryPolicy};
use pearl::tasks::{Params, Safety, Targets, TaskCx, registry};
use serde_json::json;

const PODS: usize = 2000;

async fn run(type_name: &str, ns: &str, params: serde_json::Value) -> pearl::tasks::TaskOutput {
    let t = registry().get(type_name).unwrap();
    let p = Params::from_json(t.params(), params.as_object().unwrap()).unwrap();
    t.check(&p).unwrap();
    let cx = TaskCx::new(
        type_name,
        Cluster::new(client().await, DryRun::None),
        Pool::new(&PoolConfig::default()),
        RetryPolicy::default(),
        Targets::Namespaces(vec![ns.to_string()]),
        Arc::new(Safety::default()),
    );
    t.run(&cx, &p).await.unwrap_or_else(|e| panic!("{type_name}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn script_labels_2000_pods_like_the_label_task() {
    let ns = TestNs::new("script-perf").await;
    ns.create_pods("p", PODS, &[("app", "perf")]).await.unwrap();

    let t0 = Instant::now();
    let task = run("label-pods", &ns.name, json!({"selector": "app=perf", "labels": {"by": "task"}})).await;
    let task_time = t0.elapsed();
    assert_eq!(task.changed, PODS);

    let t0 = Instant::now();
    let src = "let r = label_pods(list_pods(ARGS.ns, \"app=perf\"), #{by2: \"script\"}); r.changed";
    let script = run("script", &ns.name, json!({"source": src, "args": {"ns": ns.name}})).await;
    let script_time = t0.elapsed();
    assert_eq!(script.items.to_vec(), vec![json!(PODS)]);

    let ratio = script_time.as_secs_f64() / task_time.as_secs_f64();
    eprintln!(
        "label {PODS} pods, 32 workers: task {:.2}s, script {:.2}s, script/task = {ratio:.2}",
        task_time.as_secs_f64(),
        script_time.as_secs_f64()
    );
    let pods = ns.pods().list(&kube::api::ListParams::default().labels("by=task,by2=script")).await.unwrap();
    assert_eq!(pods.items.len(), PODS);
}
