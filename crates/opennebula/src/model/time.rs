//! Typed times: the epoch-second fields of the models as [`jiff::Timestamp`]s.
//!
//! oned sends times as seconds since the Unix epoch (`<STIME>1733130000</STIME>`) and
//! uses 0 for "not set" (`ETIME` of a VM that is still alive, `LAST_POLL` of a VM never
//! monitored). The generated structs keep the raw `Option<i64>` (what was sent, for
//! writing back and for serde); each such field also has an accessor named after it with
//! `_at` appended (`stime_at()`, `regtime_at()`, `last_poll_at()`, ...) that returns
//! `Some(Timestamp)` for a real time and `None` for an absent, 0 or out-of-range value.
//!
//! Why [`jiff`]: it is one well-kept crate (1.0, by the author of `regex`) whose
//! `Timestamp` is exactly what these fields are (an instant, no time zone), with
//! RFC 3339 `Display`, serde, exact arithmetic (`SignedDuration`) and time-zone aware
//! conversion when a user wants a civil time; `chrono` has a larger, older API with
//! panicking constructors, and `time` needs features and macros for formatting. Only
//! `std` and `serde` are enabled (no time-zone database is compiled in).
//!
//! ```
//! use nebulair_opennebula::model::{Vm, time};
//!
//! let vm: Vm = "<VM><ID>1</ID><STIME>1733130000</STIME><ETIME>0</ETIME></VM>".parse()?;
//! let started = vm.stime_at().expect("started");
//! assert_eq!(started.to_string(), "2024-12-02T09:00:00Z");
//! assert_eq!(vm.etime_at(), None); // 0: still alive
//! let now = jiff::Timestamp::from_second(1733130000 + 3 * 3600 + 5 * 60).expect("ts");
//! assert_eq!(time::format_elapsed(vm.elapsed(now)), "0d 03h05");
//! # Ok::<(), nebulair_opennebula::Error>(())
//! ```

use jiff::{SignedDuration, Timestamp};

use super::generated::*;

/// The time of an epoch-second value: `None` for 0 ("not set"), a negative value, or one
/// outside the range a [`Timestamp`] holds.
///
/// ```
/// use nebulair_opennebula::model::time::epoch;
///
/// assert_eq!(epoch(0), None);
/// assert_eq!(epoch(-5), None);
/// assert_eq!(epoch(86_400).map(|t| t.as_second()), Some(86_400));
/// assert_eq!(epoch(i64::MAX), None);
/// ```
pub fn epoch(seconds: i64) -> Option<Timestamp> {
    if seconds <= 0 {
        return None;
    }
    Timestamp::from_second(seconds).ok()
}

/// As [`epoch`] for an optional field.
pub fn epoch_opt(seconds: Option<i64>) -> Option<Timestamp> {
    seconds.and_then(epoch)
}

/// How long something ran from `start` until `end`, or until `now` while `end` is not set,
/// as `onevm list`'s TIME column computes it; zero when `start` is not set.
pub fn elapsed(start: Option<Timestamp>, end: Option<Timestamp>, now: Timestamp) -> SignedDuration {
    match start {
        Some(s) => end
            .unwrap_or(now)
            .duration_since(s)
            .max(SignedDuration::ZERO),
        None => SignedDuration::ZERO,
    }
}

/// Formats a duration as the OpenNebula CLI does in its TIME columns (`0d 03h05`: days,
/// hours, minutes; negative durations show as zero).
///
/// ```
/// use jiff::SignedDuration;
/// use nebulair_opennebula::model::time::format_elapsed;
///
/// assert_eq!(format_elapsed(SignedDuration::from_secs(59)), "0d 00h00");
/// assert_eq!(format_elapsed(SignedDuration::from_secs(2 * 86_400 + 61 * 60)), "2d 01h01");
/// assert_eq!(format_elapsed(SignedDuration::from_secs(-1)), "0d 00h00");
/// ```
pub fn format_elapsed(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let minutes = secs / 60;
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let (days, hours) = (hours / 24, hours % 24);
    format!("{days}d {hours:02}h{minutes:02}")
}

macro_rules! time_accessors {
    ($($ty:ident { $($field:ident => $at:ident),+ $(,)? })+) => {$(
        impl $ty {
            $(
                #[doc = concat!("`", stringify!($field), "` as a time; `None` when absent or 0 (not set). See [`time`](crate::model::time).")]
                pub fn $at(&self) -> Option<Timestamp> {
                    epoch_opt(self.$field)
                }
            )+
        }
    )+};
}

time_accessors! {
    Vm { stime => stime_at, etime => etime_at, last_poll => last_poll_at }
    VmPoolVm { stime => stime_at, etime => etime_at, last_poll => last_poll_at }
    VmHistory {
        stime => stime_at, etime => etime_at, pstime => pstime_at, petime => petime_at,
        rstime => rstime_at, retime => retime_at, estime => estime_at, eetime => eetime_at,
    }
    AccountingHistory {
        stime => stime_at, etime => etime_at, pstime => pstime_at, petime => petime_at,
        rstime => rstime_at, retime => retime_at, estime => estime_at, eetime => eetime_at,
    }
    VmMonitoring { timestamp => timestamp_at }
    HostMonitoring { timestamp => timestamp_at }
    MonitoringDataMonitoring { timestamp => timestamp_at }
    Image { regtime => regtime_at, modtime => modtime_at }
    MarketplaceApp { regtime => regtime_at }
    VmTemplate { regtime => regtime_at }
    VnTemplate { regtime => regtime_at }
    BackupJob { last_backup_time => last_backup_time_at }
    Lock { time => time_at }
    HookExecutionRecord { timestamp => timestamp_at }
    ClusterAction { timestamp => timestamp_at }
    UserLoginToken { expiration_time => expiration_time_at }
    UserPoolLoginToken { expiration_time => expiration_time_at }
}

impl Vm {
    /// How long the VM has lived (until `now`, or until its end time once DONE), as the
    /// TIME column of `onevm list`.
    pub fn elapsed(&self, now: Timestamp) -> SignedDuration {
        elapsed(self.stime_at(), self.etime_at(), now)
    }
}

impl VmPoolVm {
    /// As [`Vm::elapsed`].
    pub fn elapsed(&self, now: Timestamp) -> SignedDuration {
        elapsed(self.stime_at(), self.etime_at(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_absent_are_not_set() {
        let vm: VmPoolVm =
            "<VM><ID>3</ID><STIME>100</STIME><ETIME>160</ETIME><LAST_POLL>0</LAST_POLL></VM>"
                .parse()
                .expect("vm");
        assert_eq!(vm.stime_at().map(Timestamp::as_second), Some(100));
        assert_eq!(vm.etime_at().map(Timestamp::as_second), Some(160));
        assert_eq!(vm.last_poll_at(), None);
        let later = Timestamp::from_second(10_000).expect("ts");
        assert_eq!(
            vm.elapsed(later),
            SignedDuration::from_secs(60),
            "DONE: etime - stime"
        );
        let img: Image = "<IMAGE><ID>1</ID></IMAGE>".parse().expect("image");
        assert_eq!(img.regtime_at(), None);
        assert_eq!(elapsed(None, None, later), SignedDuration::ZERO);
    }
}
