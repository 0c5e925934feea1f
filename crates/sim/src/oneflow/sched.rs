//! Times of scheduled policies: `start_time` (epoch seconds, `YYYY-MM-DD hh:mm:ss` or
//! RFC 3339) and cron `recurrence` (five fields: minute, hour, day of month, month, day of
//! week; `*`, lists, ranges, steps and three-letter names), in UTC.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// A `start_time` as epoch seconds.
pub(crate) fn start_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    let dt: DateTime = s.parse().ok()?;
    Offset::UTC.to_timestamp(dt).ok().map(|t| t.as_second())
}

struct Field {
    allowed: Vec<bool>,
    star: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn value(s: &str, names: &[&str], base: u32) -> Option<u32> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return u32::try_from(i).ok().map(|i| i + base);
    }
    s.parse().ok()
}

fn field(s: &str, min: u32, max: u32, names: &[&str], base: u32) -> Option<Field> {
    let mut allowed = vec![false; usize::try_from(max).ok()? + 1];
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u32>().ok().filter(|n| *n > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, base)?, value(b, names, base)?)
        } else {
            let v = value(range, names, base)?;
            (v, if step > 1 { max } else { v })
        };
        // 7 is Sunday too in the day-of-week field
        let hi = if max == 7 && hi == 7 { 7 } else { hi };
        if lo < min || hi > max || lo > hi {
            return None;
        }
        let mut v = lo;
        while v <= hi {
            allowed[usize::try_from(v).ok()?] = true;
            v += step;
        }
    }
    if max == 7 && allowed[7] {
        allowed[0] = true;
    }
    Some(Field {
        allowed,
        star: s == "*",
    })
}

/// A parsed cron expression.
pub(crate) struct Cron {
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    dow: Field,
}

impl Cron {
    /// Parses five fields; `None` when it is not a valid expression.
    pub(crate) fn parse(s: &str) -> Option<Cron> {
        let f: Vec<&str> = s.split_whitespace().collect();
        if f.len() != 5 {
            return None;
        }
        Some(Cron {
            minute: field(f[0], 0, 59, &[], 0)?,
            hour: field(f[1], 0, 23, &[], 0)?,
            dom: field(f[2], 1, 31, &[], 0)?,
            month: field(f[3], 1, 12, &MONTHS, 1)?,
            dow: field(f[4], 0, 7, &DAYS, 0)?,
        })
    }

    /// The first time strictly after `after` (epoch seconds) the expression matches, at
    /// most four years ahead.
    pub(crate) fn next(&self, after: i64) -> Option<i64> {
        let mut t = (after.div_euclid(60) + 1) * 60;
        let end = after + 4 * 366 * 86_400;
        while t <= end {
            let z = Offset::UTC.to_datetime(Timestamp::from_second(t).ok()?);
            let ok = |f: &Field, v: i64| {
                usize::try_from(v).is_ok_and(|v| f.allowed.get(v) == Some(&true))
            };
            let day_ok = {
                let dom = ok(&self.dom, i64::from(z.day()));
                let dow = ok(&self.dow, i64::from(z.weekday().to_sunday_zero_offset()));
                match (self.dom.star, self.dow.star) {
                    (false, false) => dom || dow,
                    _ => dom && dow,
                }
            };
            if !ok(&self.month, i64::from(z.month())) || !day_ok {
                // skip to the next day
                t = (t.div_euclid(86_400) + 1) * 86_400;
                continue;
            }
            if !ok(&self.hour, i64::from(z.hour())) {
                t = (t.div_euclid(3600) + 1) * 3600;
                continue;
            }
            if ok(&self.minute, i64::from(z.minute())) {
                return Some(t);
            }
            t += 60;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_cron() {
        assert_eq!(start_time("1700000000"), Some(1_700_000_000));
        assert_eq!(start_time("2024-01-01 00:00:00"), Some(1_704_067_200));
        assert_eq!(start_time("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(start_time("tomorrow"), None);
        // 2024-01-01 is a Monday
        let c = Cron::parse("30 9 * * mon-fri").expect("cron");
        assert_eq!(c.next(1_704_067_200), Some(1_704_067_200 + 9 * 3600 + 1800));
        let sat = Cron::parse("0 0 * * sat").expect("cron");
        assert_eq!(sat.next(1_704_067_200), Some(1_704_067_200 + 5 * 86_400));
        let every = Cron::parse("*/15 * * * *").expect("cron");
        assert_eq!(every.next(1_704_067_200), Some(1_704_067_200 + 900));
        assert!(Cron::parse("61 * * * *").is_none());
        assert!(Cron::parse("* * *").is_none());
        assert!(Cron::parse("* * * * * *").is_none());
    }
}
