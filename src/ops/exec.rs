//! Pod logs (a tail, or a followed stream of lines) and exec of a command in a container,
//! returning stdout, stderr and the exit code read from the exec status channel.

use std::pin::Pin;

use futures::{AsyncBufReadExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Api;
use kube::api::{AttachParams, LogParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Cluster, OpsError, object};

/// Which logs to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogOptions {
    /// The container (needed when the pod has more than one).
    pub container: Option<String>,
    /// Only the last N lines.
    pub tail_lines: Option<i64>,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// The previous (crashed) instance of the container.
    pub previous: bool,
    /// Prefix each line with its RFC 3339 timestamp.
    pub timestamps: bool,
}

impl LogOptions {
    fn params(&self, follow: bool) -> LogParams {
        LogParams {
            container: self.container.clone(),
            tail_lines: self.tail_lines,
            since_seconds: self.since_seconds,
            previous: self.previous,
            timestamps: self.timestamps,
            follow,
            ..LogParams::default()
        }
    }
}

fn target(namespace: &str, name: &str, container: Option<&str>) -> String {
    match container {
        Some(c) => format!("{} container {c}", object("pod", Some(namespace), name)),
        None => object("pod", Some(namespace), name),
    }
}

/// The logs of a pod's container, as text.
pub async fn pod_logs(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    options: &LogOptions,
) -> Result<String, OpsError> {
    Api::<Pod>::namespaced(cluster.client.clone(), namespace)
        .logs(name, &options.params(false))
        .await
        .map_err(|e| OpsError::api("logs of", target(namespace, name, options.container.as_deref()), e))
}

/// A stream of log lines (without their newline).
pub type LogLines = Pin<Box<dyn Stream<Item = Result<String, OpsError>> + Send>>;

/// Follow a pod's logs: the lines so far (or the last `tail_lines`), then each new line as it is
/// written, until the container stops or the stream is dropped.
pub async fn follow_logs(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    options: &LogOptions,
) -> Result<LogLines, OpsError> {
    let what = target(namespace, name, options.container.as_deref());
    let reader = Api::<Pod>::namespaced(cluster.client.clone(), namespace)
        .log_stream(name, &options.params(true))
        .await
        .map_err(|e| OpsError::api("follow logs of", what.clone(), e))?;
    let lines = reader.lines().map(move |line| {
        line.map_err(|e| OpsError::api("follow logs of", what.clone(), kube::Error::ReadEvents(e)))
    });
    Ok(Box::pin(lines))
}

/// What a command run with [`exec`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// 0 on success; the command's exit code otherwise.
    pub exit_code: i32,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// The exit code an exec status reports: 0 for Success; a real kubelet sends reason
/// `NonZeroExitCode` with an `ExitCode` cause, kwok an `exit status N` message. `None` when the
/// status is a failure that carries no exit code (the command could not be started).
pub fn exit_code_of(status: &Status) -> Option<i32> {
    if status.status.as_deref() == Some("Success") {
        return Some(0);
    }
    let from_cause = status.details.as_ref().and_then(|d| d.causes.as_ref()).and_then(|causes| {
        causes
            .iter()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref()?.trim().parse().ok())
    });
    from_cause.or_else(|| {
        let m = status.message.as_deref()?;
        let at = m.find("exit status ")? + "exit status ".len();
        m[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    })
}

/// Run `command` in a container of a pod (the first container when `container` is `None`),
/// feeding it `stdin` if given, and collect stdout, stderr and the exit code. A command that
/// ran and exited non-zero is `Ok` with that code; one that could not be started is an error.
pub async fn exec(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    container: Option<&str>,
    command: &[String],
    stdin: Option<&[u8]>,
) -> Result<ExecOutput, OpsError> {
    let what = target(namespace, name, container);
    if command.is_empty() {
        return Err(OpsError::Invalid { op: "exec in", object: what, message: "no command given".into() });
    }
    let mut ap = AttachParams::default().stdin(stdin.is_some()).stdout(true).stderr(true);
    if let Some(c) = container {
        ap = ap.container(c);
    }
    let api = Api::<Pod>::namespaced(cluster.client.clone(), namespace);
    let mut process =
        api.exec(name, command.to_vec(), &ap).await.map_err(|e| OpsError::api("exec in", what.clone(), e))?;
    let io_error = |e: std::io::Error| OpsError::Invalid {
        op: "exec in",
        object: what.clone(),
        message: format!("stream broke: {e}"),
    };
    if let (Some(data), Some(mut writer)) = (stdin, process.stdin()) {
        writer.write_all(data).await.map_err(io_error)?;
        writer.shutdown().await.map_err(io_error)?;
    }
    let mut out_reader = process.stdout().expect("stdout requested");
    let mut err_reader = process.stderr().expect("stderr requested");
    let status = process.take_status().expect("status is taken once");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let (r1, r2) = tokio::join!(out_reader.read_to_end(&mut stdout), err_reader.read_to_end(&mut stderr));
    r1.map_err(io_error)?;
    r2.map_err(io_error)?;
    let status = status.await;
    let _ = process.join().await;
    let exit_code = match &status {
        // The connection closed without a status: the process ended normally.
        None => 0,
        Some(s) => exit_code_of(s).ok_or_else(|| OpsError::Invalid {
            op: "exec in",
            object: what.clone(),
            message: format!(
                "command {:?} failed: {}",
                command,
                s.message.as_deref().unwrap_or("no message from the server")
            ),
        })?,
    };
    Ok(ExecOutput {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        exit_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    #[test]
    fn exit_codes_from_kubelet_causes_and_kwok_messages() {
        let ok = Status { status: Some("Success".into()), ..Default::default() };
        assert_eq!(exit_code_of(&ok), Some(0));
        let kubelet = Status {
            status: Some("Failure".into()),
            reason: Some("NonZeroExitCode".into()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some("3".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(exit_code_of(&kubelet), Some(3));
        let kwok = Status {
            status: Some("Failure".into()),
            message: Some("command terminated: exit status 7".into()),
            ..Default::default()
        };
        assert_eq!(exit_code_of(&kwok), Some(7));
        let not_started = Status {
            status: Some("Failure".into()),
            message: Some("executable file not found in $PATH".into()),
            ..Default::default()
        };
        assert_eq!(exit_code_of(&not_started), None);
    }
}
