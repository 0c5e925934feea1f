//! The plumbing every workload handle shares: [`Workloads`] (a client plus
//! [`WorkloadOptions`]), how mutating requests are sent (`BUSY_ENTITY` retried with
//! backoff), and [`Pending`], the operation a mutating call returns.
//!
//! A mutating call does nothing until it is awaited: `.await` sends it and gives the
//! [`Task`] vCD started; [`Pending::wait`] sends it and waits for the task to end (with
//! the options' poll interval, deadline and idle timeout, or those set on the `Pending`).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use nebulair_core::{Error, Result, RetryPolicy};

use crate::client::{ApiRequest, VcdClient, VcdResponse};
use crate::model::vcd::{Document, TasksInProgress};
use crate::model::xml::XmlElement;
use crate::task::{Task, TaskWaiter};

/// Settings of the workload handles.
#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    busy_retry: RetryPolicy,
    poll_interval: Duration,
    deadline: Option<Duration>,
    idle_timeout: Option<Duration>,
}

impl Default for WorkloadOptions {
    /// `BUSY_ENTITY` retried 6 times, 1 s doubling up to 15 s (with jitter); tasks polled
    /// every 2 s with a 30 min deadline and a 10 min idle timeout.
    fn default() -> Self {
        WorkloadOptions {
            busy_retry: RetryPolicy::default()
                .max_retries(6)
                .initial_backoff(Duration::from_secs(1))
                .max_backoff(Duration::from_secs(15))
                .no_deadline(),
            poll_interval: Duration::from_secs(2),
            deadline: Some(Duration::from_secs(1800)),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }
}

impl WorkloadOptions {
    /// How a mutating request refused with `BUSY_ENTITY` (another task works on the
    /// object) is retried. [`RetryPolicy::none`] turns retrying off.
    pub fn busy_retry(mut self, policy: RetryPolicy) -> Self {
        self.busy_retry = policy;
        self
    }

    /// How often a task is polled by [`Pending::wait`].
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// The overall deadline of [`Pending::wait`] (`None`: none).
    pub fn deadline(mut self, d: Option<Duration>) -> Self {
        self.deadline = d;
        self
    }

    /// How long a task may go without progress in [`Pending::wait`] (`None`: no limit).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }

    /// The busy retry policy.
    pub fn get_busy_retry(&self) -> &RetryPolicy {
        &self.busy_retry
    }

    fn waiter(&self, client: &VcdClient) -> TaskWaiter {
        client
            .task_waiter()
            .poll_interval(self.poll_interval)
            .deadline(self.deadline)
            .idle_timeout(self.idle_timeout)
    }
}

/// A client with workload options: the root of the org / vDC / vApp / VM / catalog
/// handles. [`VcdClient::workloads`] gives one with the default options; the handle
/// constructors on [`VcdClient`] (`client.vapp(..)`) use those defaults.
#[derive(Debug, Clone)]
pub struct Workloads {
    pub(crate) client: VcdClient,
    pub(crate) options: Arc<WorkloadOptions>,
}

impl Workloads {
    /// Workload handles over `client` with these options.
    pub fn new(client: VcdClient, options: WorkloadOptions) -> Self {
        Workloads {
            client,
            options: Arc::new(options),
        }
    }

    /// The client.
    pub fn client(&self) -> &VcdClient {
        &self.client
    }

    /// The options.
    pub fn options(&self) -> &WorkloadOptions {
        &self.options
    }

    /// A [`TaskWaiter`] with these options' settings.
    pub fn waiter(&self) -> TaskWaiter {
        self.options.waiter(&self.client)
    }

    /// `GET` a vCD document and decode it as `T`.
    ///
    /// # Errors
    /// Request errors; [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the
    /// answer is not a `T`.
    pub async fn get_document<T: Document>(&self, href: &str) -> Result<T> {
        T::from_root(&self.client.get_xml(href).await?)
    }

    /// Sends a mutating request, retrying while vCD answers `BUSY_ENTITY`.
    ///
    /// # Errors
    /// The last error (a `BUSY_ENTITY` one once the retries are spent).
    pub async fn submit(&self, req: ApiRequest) -> Result<VcdResponse> {
        let client = &self.client;
        self.options
            .busy_retry
            .run_if(true, is_busy_entity, &mut || client.send(req.clone()))
            .await
    }

    /// Sends a mutating request and returns the Task of its answer: a `Task` document,
    /// or the first task of a document's `Tasks` (vCD answers an instantiation with the
    /// new vApp and its task).
    ///
    /// # Errors
    /// As [`submit`](Self::submit); [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol)
    /// when the answer carries no task.
    pub async fn submit_task(&self, req: ApiRequest) -> Result<Task> {
        let op = format!("{} {}", req.method(), req.target());
        let resp = self.submit(req).await?;
        let root = resp
            .xml()
            .map_err(|e| e.context(format!("{op}: the answer")))?;
        task_of(&root).ok_or_else(|| Error::protocol(format!("{op}: the answer carries no Task")))
    }

    /// A [`Pending`] operation that sends `req` when awaited.
    pub fn pending(&self, req: ApiRequest) -> Pending {
        let ws = self.clone();
        Pending::new(self, async move { ws.submit_task(req).await })
    }
}

/// The task of an answer: the root itself, or the first `Tasks/Task` child.
pub(crate) fn task_of(root: &XmlElement) -> Option<Task> {
    if root.name() == "Task" {
        return Task::from_element(root).ok();
    }
    root.child("Tasks")
        .and_then(|t| t.child("Task"))
        .and_then(|t| Task::from_element(t).ok())
}

/// Whether an error is vCD's `BUSY_ENTITY` (another task holds the object): the request
/// was refused, so sending it again later is safe.
pub fn is_busy_entity(err: &Error) -> bool {
    err.service()
        .and_then(|s| s.code_name())
        .is_some_and(|c| c.eq_ignore_ascii_case("BUSY_ENTITY"))
}

/// The tasks still running on an object (from its `Tasks` element), when any.
pub fn tasks_in_progress(tasks: Option<&TasksInProgress>) -> Vec<Task> {
    tasks
        .map(|t| {
            t.tasks
                .iter()
                .filter_map(|t| Task::from_element(&t.to_root()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A mutating operation that has not been sent yet.
///
/// `.await` sends it and gives the [`Task`] vCD started (running or queued);
/// [`wait`](Self::wait) sends it and waits until the task ends, returning the finished
/// task or the task's error (with vCD's `majorErrorCode`, `minorErrorCode` and message in
/// [`Error::service`]).
#[must_use = "a Pending operation does nothing until it is awaited or waited for"]
pub struct Pending {
    send: BoxFuture<'static, Result<Task>>,
    waiter: TaskWaiter,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}

impl Pending {
    pub(crate) fn new(
        ws: &Workloads,
        send: impl Future<Output = Result<Task>> + Send + 'static,
    ) -> Self {
        Pending {
            send: Box::pin(send),
            waiter: ws.waiter(),
        }
    }

    /// An operation that fails at once (bad input found before anything was sent).
    pub(crate) fn failed(ws: &Workloads, err: Error) -> Self {
        Pending::new(ws, async move { Err(err) })
    }

    /// Sets the overall deadline of [`wait`](Self::wait).
    pub fn deadline(mut self, d: Option<Duration>) -> Self {
        self.waiter = self.waiter.deadline(d);
        self
    }

    /// Sets the idle timeout of [`wait`](Self::wait).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.waiter = self.waiter.idle_timeout(d);
        self
    }

    /// Sets the poll interval of [`wait`](Self::wait).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.waiter = self.waiter.poll_interval(d);
        self
    }

    /// Sends the operation and waits for its task to end.
    ///
    /// # Errors
    /// The request's error; the task's error when it ends in `error`, `canceled` or
    /// `aborted`; [`ErrorKind::Timeout`](nebulair_core::ErrorKind::Timeout) when the
    /// deadline or idle timeout passes.
    pub async fn wait(self) -> Result<Task> {
        let task = self.send.await?;
        self.waiter.wait(&task).await
    }
}

impl IntoFuture for Pending {
    type Output = Result<Task>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Task>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        self.send
    }
}

/// The creation of a vApp that has not been sent yet (instantiate or compose).
///
/// `.await` sends it and gives the new vApp's handle with the creation [`Task`];
/// [`wait`](Self::wait) also waits for the task and gives the handle of the finished vApp.
#[must_use = "a PendingVApp does nothing until it is awaited or waited for"]
pub struct PendingVApp {
    send: BoxFuture<'static, Result<(super::VAppHandle, Task)>>,
    waiter: TaskWaiter,
}

impl std::fmt::Debug for PendingVApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingVApp")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}

impl PendingVApp {
    pub(crate) fn new(
        ws: &Workloads,
        send: impl Future<Output = Result<(super::VAppHandle, Task)>> + Send + 'static,
    ) -> Self {
        PendingVApp {
            send: Box::pin(send),
            waiter: ws.waiter(),
        }
    }

    /// Sets the overall deadline of [`wait`](Self::wait).
    pub fn deadline(mut self, d: Option<Duration>) -> Self {
        self.waiter = self.waiter.deadline(d);
        self
    }

    /// Sends the creation and waits for its task.
    ///
    /// # Errors
    /// As [`Pending::wait`].
    pub async fn wait(self) -> Result<super::VAppHandle> {
        let (vapp, task) = self.send.await?;
        self.waiter.wait(&task).await?;
        Ok(vapp)
    }
}

impl IntoFuture for PendingVApp {
    type Output = Result<(super::VAppHandle, Task)>;
    type IntoFuture = BoxFuture<'static, Result<(super::VAppHandle, Task)>>;

    fn into_future(self) -> Self::IntoFuture {
        self.send
    }
}
/// Retries a whole read-modify-write step while vCD answers `BUSY_ENTITY`.
pub(crate) async fn retry_busy<T, F, Fut>(ws: &Workloads, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    ws.options
        .busy_retry
        .run_if(true, is_busy_entity, &mut op)
        .await
}
