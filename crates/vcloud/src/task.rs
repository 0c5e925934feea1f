//! vCD tasks: decoding and waiting.
//!
//! Long operations answer `202 Accepted` with a [`Task`]; [`VcdClient::wait_for`] (or a
//! [`TaskWaiter`] for custom settings) polls the task's `href` until it ends, with a poll
//! interval, an overall deadline and an idle timeout (no progress change for that long).
//! A task that ends in `error`, `canceled` or `aborted` is an [`Error`] carrying the
//! task's own error message.
//!
//! ```
//! use nebulair_vcloud::task::{Task, TaskStatus};
//!
//! let task = Task::from_xml(r#"<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="error"
//!     href="https://vcd.example.test/api/task/1" operationName="vappDeploy">
//!   <Error majorErrorCode="500" minorErrorCode="INTERNAL_SERVER_ERROR" message="no capacity"/>
//! </Task>"#)?;
//! assert_eq!(task.status, TaskStatus::Error);
//! assert!(task.status.is_terminal());
//! let err = task.check().expect_err("failed task");
//! assert!(err.to_string().contains("no capacity"));
//! # Ok::<(), nebulair_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use nebulair_core::{Error, ErrorKind, Result};
use tokio::time::Instant;

use crate::client::VcdClient;
use crate::error::VcdError;
use crate::model::Reference;
use crate::model::xml::XmlElement;

/// The status of a [`Task`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Waiting to start.
    Queued,
    /// Starting (`preRunning`).
    PreRunning,
    /// Running.
    Running,
    /// Finished successfully.
    Success,
    /// Failed; see [`Task::error`].
    Error,
    /// Cancelled by a user (`canceled`).
    Canceled,
    /// Aborted by the system.
    Aborted,
    /// A status this client does not know, kept as written.
    Unknown(String),
}

impl TaskStatus {
    /// The status as the server writes it.
    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::PreRunning => "preRunning",
            TaskStatus::Running => "running",
            TaskStatus::Success => "success",
            TaskStatus::Error => "error",
            TaskStatus::Canceled => "canceled",
            TaskStatus::Aborted => "aborted",
            TaskStatus::Unknown(s) => s,
        }
    }

    /// Whether the task has ended (successfully or not).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskStatus::Success | TaskStatus::Error | TaskStatus::Canceled | TaskStatus::Aborted
        )
    }

    /// Whether the task ended without success.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            TaskStatus::Error | TaskStatus::Canceled | TaskStatus::Aborted
        )
    }
}

impl FromStr for TaskStatus {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s.trim() {
            "queued" => TaskStatus::Queued,
            "preRunning" => TaskStatus::PreRunning,
            "running" => TaskStatus::Running,
            "success" => TaskStatus::Success,
            "error" => TaskStatus::Error,
            "canceled" | "cancelled" => TaskStatus::Canceled,
            "aborted" => TaskStatus::Aborted,
            other => TaskStatus::Unknown(other.to_owned()),
        })
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A vCD `Task` (`TaskType` in the schema), decoded leniently.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Task {
    /// The task's URL, polled by [`TaskWaiter`].
    pub href: String,
    /// `id`, e.g. `urn:vcloud:task:<uuid>`.
    pub id: Option<String>,
    /// `name` (usually `task`).
    pub name: Option<String>,
    /// `status`.
    pub status: TaskStatus,
    /// `operation`: a human-readable description.
    pub operation: Option<String>,
    /// `operationName`, e.g. `vappDeploy`.
    pub operation_name: Option<String>,
    /// `startTime` as written (ISO 8601).
    pub start_time: Option<String>,
    /// `endTime` as written.
    pub end_time: Option<String>,
    /// `expiryTime` as written.
    pub expiry_time: Option<String>,
    /// `cancelRequested`.
    pub cancel_requested: bool,
    /// `Progress` (0-100), when present.
    pub progress: Option<u8>,
    /// The object the task works on (`Owner`).
    pub owner: Option<Reference>,
    /// The user who started it (`User`).
    pub user: Option<Reference>,
    /// The organisation (`Organization`).
    pub organization: Option<Reference>,
    /// `Details`, when non-empty.
    pub details: Option<String>,
    /// The error of a failed task (`Error`).
    pub error: Option<VcdError>,
}

impl Task {
    /// Decodes a Task document.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] when the text is not XML, the root is not `Task`, or
    /// `href`/`status` is missing.
    pub fn from_xml(text: &str) -> Result<Task> {
        Task::from_element(&XmlElement::parse(text)?)
    }

    /// Decodes a `Task` element (also a Task nested in another document).
    ///
    /// # Errors
    /// As [`Task::from_xml`].
    pub fn from_element(el: &XmlElement) -> Result<Task> {
        if el.name() != "Task" {
            return Err(Error::protocol(format!(
                "expected a Task document, got <{}>",
                el.name()
            )));
        }
        let href = el
            .attr("href")
            .ok_or_else(|| Error::protocol("Task without href"))?
            .to_owned();
        let status = el
            .attr("status")
            .ok_or_else(|| Error::protocol("Task without status"))?;
        let status = TaskStatus::from_str(status).unwrap_or(TaskStatus::Unknown(String::new()));
        let progress = match el.child_text("Progress") {
            None | Some("") => None,
            Some(p) => Some(
                p.parse::<f64>()
                    .ok()
                    .filter(|v| (0.0..=100.0).contains(v))
                    .map(|v| v.round() as u8)
                    .ok_or_else(|| Error::protocol(format!("Task Progress {p:?} is not 0-100")))?,
            ),
        };
        let a = |n: &str| el.attr(n).map(str::to_owned);
        Ok(Task {
            href,
            id: a("id"),
            name: a("name"),
            status,
            operation: a("operation"),
            operation_name: a("operationName"),
            start_time: a("startTime"),
            end_time: a("endTime"),
            expiry_time: a("expiryTime"),
            cancel_requested: el.attr("cancelRequested") == Some("true"),
            progress,
            owner: el.child("Owner").map(Reference::from_element),
            user: el.child("User").map(Reference::from_element),
            organization: el.child("Organization").map(Reference::from_element),
            details: el
                .child_text("Details")
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            error: el.child("Error").map(VcdError::from_element),
        })
    }

    /// The one definition of "finished" shared by [`TaskWaiter`] and the DR runner:
    /// `Ok(true)` only when vCD says `success`; `Ok(false)` while the task is queued,
    /// running, or in a status this client does not know (keep waiting: the idle
    /// timeout or deadline ends it); the task's error when it ended in `error`,
    /// `canceled` or `aborted` (see [`check`](Self::check)).
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn completion(&self) -> Result<bool> {
        self.check()?;
        Ok(self.status == TaskStatus::Success)
    }

    /// `Ok(())` unless the task failed.
    ///
    /// # Errors
    /// For `error`: the kind from the task error's code ([`ErrorKind::Server`] by default)
    /// with the task's message; `canceled` is [`ErrorKind::Cancelled`]; `aborted` is
    /// [`ErrorKind::Server`].
    pub fn check(&self) -> Result<()> {
        if !self.status.is_failure() {
            return Ok(());
        }
        let op = self
            .operation_name
            .clone()
            .or_else(|| self.operation.clone())
            .unwrap_or_else(|| "task".to_owned());
        let kind = match self.status {
            TaskStatus::Canceled => ErrorKind::Cancelled,
            _ => match &self.error {
                Some(e) if e.major_error_code >= 400 && e.major_error_code < 500 => {
                    crate::error::kind_for_status(e.major_error_code as u16)
                }
                _ => ErrorKind::Server,
            },
        };
        let detail = self
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .filter(|m| !m.is_empty())
            .or_else(|| self.details.clone())
            .unwrap_or_else(|| "no error message".to_owned());
        let mut err = Error::new(
            kind,
            format!("{op} ended with status {}: {detail}", self.status),
        );
        if let Some(e) = &self.error {
            err = err.with_service(
                e.to_service_error()
                    .with_operation(op)
                    .with_resource_id(self.id.clone().unwrap_or_else(|| self.href.clone())),
            );
        }
        Err(err)
    }
}

/// Waits for tasks: polls `href` every `poll_interval` until the task ends.
///
/// Defaults: poll every 5 s, overall deadline 600 s, idle timeout (no status or
/// progress change) 600 s. Waiting stops early when the task ends.
#[derive(Debug, Clone)]
pub struct TaskWaiter {
    client: VcdClient,
    poll_interval: Duration,
    deadline: Option<Duration>,
    idle_timeout: Option<Duration>,
}

impl TaskWaiter {
    /// A waiter with the default settings.
    pub fn new(client: VcdClient) -> Self {
        TaskWaiter {
            client,
            poll_interval: Duration::from_secs(5),
            deadline: Some(Duration::from_secs(600)),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }

    /// Sets the time between polls.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets the overall deadline (`None`: wait without limit).
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets how long the task may go without a status or progress change
    /// (`None`: no idle limit).
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Polls until the task ends and returns its final state.
    ///
    /// # Errors
    /// The task's error when it ends in `error`/`canceled`/`aborted` (see
    /// [`Task::check`]); [`ErrorKind::Timeout`] when the deadline or the idle timeout
    /// passes; any request error while polling.
    pub async fn wait(&self, task: &Task) -> Result<Task> {
        let start = Instant::now();
        let mut last_change = start;
        let mut current = task.clone();
        let mut seen = (current.status.clone(), current.progress);
        loop {
            if current.completion()? {
                return Ok(current);
            }
            let now = Instant::now();
            if let Some(d) = self.deadline
                && now.duration_since(start) >= d
            {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "task {} did not finish within {d:?} (last status {}, progress {:?})",
                        current.href, current.status, current.progress
                    ),
                ));
            }
            if let Some(idle) = self.idle_timeout
                && now.duration_since(last_change) >= idle
            {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "task {} made no progress for {idle:?} (status {}, progress {:?})",
                        current.href, current.status, current.progress
                    ),
                ));
            }
            let mut sleep = self.poll_interval;
            if let Some(d) = self.deadline {
                sleep = sleep.min(d.saturating_sub(now.duration_since(start)));
            }
            if let Some(idle) = self.idle_timeout {
                sleep = sleep.min(idle.saturating_sub(now.duration_since(last_change)));
            }
            tokio::time::sleep(sleep).await;
            current = self.client.get_task(&current.href).await?;
            let state = (current.status.clone(), current.progress);
            if state != seen {
                tracing::debug!(task = %current.href, status = %current.status, progress = ?current.progress, "task progressed");
                seen = state;
                last_change = Instant::now();
            }
        }
    }
}

impl VcdClient {
    /// Asks vCD to cancel a running task (`POST {task}/action/cancel`). vCD answers at
    /// once; the task ends in `canceled` later (poll it, or wait for it and expect
    /// [`ErrorKind::Cancelled`]).
    ///
    /// # Errors
    /// Request errors (an unknown task is vCD's error).
    pub async fn cancel_task(&self, task: &Task) -> Result<()> {
        let target = format!("{}/action/cancel", task.href.trim_end_matches('/'));
        self.send(crate::client::ApiRequest::post(target))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_samples() {
        let t = Task::from_xml(include_str!("../tests/data/vcd_task_success.xml")).expect("task");
        assert_eq!(t.status, TaskStatus::Success);
        assert_eq!(t.progress, Some(100));
        assert_eq!(t.operation_name.as_deref(), Some("vdcComposeVapp"));
        assert_eq!(
            t.owner.as_ref().and_then(|o| o.name.as_deref()),
            Some("Test API GO4")
        );
        assert!(t.check().is_ok());
        let t =
            Task::from_xml(include_str!("../tests/data/vcd_task_running_202.xml")).expect("task");
        assert_eq!(t.status, TaskStatus::Queued);
        assert_eq!(t.progress, None);
        assert_eq!(t.details, None);
        assert_eq!(
            t.id.as_deref(),
            Some("urn:vcloud:task:9e0fe5aa-59b3-474a-a89a-72228587cb09")
        );
        assert_eq!(
            t.organization.as_ref().and_then(|o| o.name.as_deref()),
            Some("RedHat")
        );
    }

    #[test]
    fn all_statuses() {
        for (s, failed) in [
            ("queued", false),
            ("preRunning", false),
            ("running", false),
            ("success", false),
            ("error", true),
            ("canceled", true),
            ("aborted", true),
        ] {
            let t = Task::from_xml(&format!(r#"<Task href="h" status="{s}"/>"#)).expect("task");
            assert_eq!(t.status.as_str(), s);
            assert_eq!(t.check().is_err(), failed, "{s}");
        }
        let t = Task::from_xml(r#"<Task href="h" status="canceled"/>"#).expect("task");
        assert!(t.check().expect_err("cancelled").is_cancelled());
        let t = Task::from_xml(r#"<Task href="h" status="paused"/>"#).expect("task");
        assert_eq!(t.status, TaskStatus::Unknown("paused".into()));
    }

    #[test]
    fn bad_tasks() {
        for bad in [
            "<Task status='running'/>",
            "<Task href='h'/>",
            "<Vm href='h' status='4'/>",
            "<Task href='h' status='running'><Progress>140</Progress></Task>",
            "<Task href='h' status='running'><Progress>x</Progress></Task>",
            "<Task",
        ] {
            assert_eq!(
                Task::from_xml(bad).expect_err(bad).kind(),
                ErrorKind::Protocol
            );
        }
    }

    fn task_xml(status: &str, progress: Option<u8>) -> String {
        let p = progress
            .map(|p| format!("<Progress>{p}</Progress>"))
            .unwrap_or_default();
        format!(
            r#"<Task href="https://vcd.example.test/api/task/1" status="{status}" operationName="vappDeploy">{p}</Task>"#
        )
    }

    fn client(mock: std::sync::Arc<nebulair_core::MockTransport>) -> VcdClient {
        VcdClient::new(
            crate::session::OrgInfo::new("https://vcd.example.test/", "t", "o").expect("org"),
            mock,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn wait_polls_until_success() {
        use nebulair_core::HttpResponse;
        let mock = std::sync::Arc::new(nebulair_core::MockTransport::new());
        for (s, p) in [("running", 10), ("running", 60), ("success", 100)] {
            mock.push_response(HttpResponse::new(200, task_xml(s, Some(p))));
        }
        let c = client(mock.clone());
        let start = Task::from_xml(&task_xml("queued", None)).expect("task");
        let done = c
            .task_waiter()
            .poll_interval(Duration::from_secs(2))
            .wait(&start)
            .await
            .expect("success");
        assert_eq!(done.status, TaskStatus::Success);
        assert_eq!(mock.request_count(), 3);
        assert_eq!(
            mock.requests()[0].url.as_str(),
            "https://vcd.example.test/api/task/1"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_resets_on_progress_only() {
        use nebulair_core::HttpResponse;
        let mock = std::sync::Arc::new(nebulair_core::MockTransport::with_handler(|_| {
            Ok(HttpResponse::new(200, task_xml("running", Some(50))))
        }));
        let c = client(mock.clone());
        let start = Task::from_xml(&task_xml("running", Some(50))).expect("task");
        let t0 = Instant::now();
        let err = c
            .task_waiter()
            .poll_interval(Duration::from_secs(10))
            .deadline(None)
            .idle_timeout(Some(Duration::from_secs(60)))
            .wait(&start)
            .await
            .expect_err("idle");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("no progress"), "{err}");
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_secs(60) && waited < Duration::from_secs(71),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_wins_even_with_progress() {
        use nebulair_core::HttpResponse;
        let counter = std::sync::atomic::AtomicU8::new(0);
        let mock = std::sync::Arc::new(nebulair_core::MockTransport::with_handler(move |_| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(HttpResponse::new(200, task_xml("running", Some(n.min(99)))))
        }));
        let c = client(mock);
        let start = Task::from_xml(&task_xml("running", Some(0))).expect("task");
        let err = c
            .task_waiter()
            .poll_interval(Duration::from_secs(1))
            .deadline(Some(Duration::from_secs(30)))
            .wait(&start)
            .await
            .expect_err("deadline");
        assert!(err.is_timeout());
        assert!(err.to_string().contains("did not finish"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn failed_task_and_poll_errors() {
        use nebulair_core::HttpResponse;
        let mock = std::sync::Arc::new(nebulair_core::MockTransport::new());
        mock.push_response(HttpResponse::new(
            200,
            r#"<Task href="https://vcd.example.test/api/task/1" status="error"><Error majorErrorCode="409" minorErrorCode="BUSY_ENTITY" message="edge is busy"/></Task>"#,
        ));
        mock.push_response(HttpResponse::new(404, ""));
        let c = client(mock);
        let start = Task::from_xml(&task_xml("running", None)).expect("task");
        let err = c.wait_for(&start).await.expect_err("error");
        assert!(err.is_conflict(), "{err}");
        assert!(err.to_string().contains("edge is busy"));
        assert_eq!(
            err.service().and_then(|s| s.code_name()),
            Some("BUSY_ENTITY")
        );
        let err = c.wait_for(&start).await.expect_err("404 while polling");
        assert!(err.is_not_found());
        // An already finished task returns at once without a request.
        let done = Task::from_xml(&task_xml("success", Some(100))).expect("done");
        assert_eq!(
            c.wait_for(&done).await.expect("done").status,
            TaskStatus::Success
        );
    }
}
