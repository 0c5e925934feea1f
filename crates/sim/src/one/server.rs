//! A small HTTP/1.1 server in front of the engine, behaving like oned's Abyss server
//! (`POST /RPC2`, 405 for other methods, 404 for other paths) while also supporting
//! keep-alive for clients that reuse connections.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::Engine;
use crate::faults::Fault;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Accept connections until `stop` is cancelled.
pub(crate) async fn serve(listener: TcpListener, engine: Arc<Engine>, stop: CancellationToken) {
    let tracker = tokio_util::task::TaskTracker::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let _ = stream.set_nodelay(true);
                let engine = engine.clone();
                let stop = stop.clone();
                tracker.spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        r = connection(stream, engine) => {
                            if let Err(e) = r {
                                tracing::debug!(error = %e, "OpenNebula simulator connection ended");
                            }
                        }
                    }
                });
            }
        }
    }
    tracker.close();
    tracker.wait().await;
}

struct Request {
    method: String,
    path: String,
    keep_alive: bool,
    body: Vec<u8>,
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// Read one request; `Ok(None)` at a clean end of the connection.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p;
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too large"));
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(std::io::Error::other("connection closed mid-request"))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let version = parts.next().unwrap_or("HTTP/1.0");
    let mut content_length = 0usize;
    let mut chunked = false;
    let mut keep_alive = version == "HTTP/1.1";
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = v
                    .parse()
                    .map_err(|_| std::io::Error::other("bad content-length"))?;
            }
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                let v = v.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            _ => {}
        }
    }
    if content_length > MAX_BODY {
        return Err(std::io::Error::other("request body too large"));
    }
    buf.drain(..head_end + 4);
    let body = if chunked {
        read_chunked(stream, buf).await?
    } else {
        while buf.len() < content_length {
            let mut chunk = vec![0u8; (content_length - buf.len()).min(65536)];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed mid-body"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..content_length).collect()
    };
    Ok(Some(Request {
        method,
        path,
        keep_alive,
        body,
    }))
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::Error::other("connection closed mid-body"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(p) = find(buf, b"\r\n") {
                break p;
            }
            fill(stream, buf).await?;
        };
        let size_line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                if let Some(p) = find(buf, b"\r\n") {
                    buf.drain(..p + 2);
                    if p == 0 {
                        return Ok(body);
                    }
                    continue;
                }
                fill(stream, buf).await?;
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(std::io::Error::other("request body too large"));
        }
        while buf.len() < size + 2 {
            fill(stream, buf).await?;
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

async fn connection(mut stream: TcpStream, engine: Arc<Engine>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut stream, &mut buf).await? else {
            return Ok(());
        };
        let keep_alive = req.keep_alive && !engine.connection_close;
        let (delay, fault) = engine.faults.draw();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let (status, body): (&str, String) = if req.path != "/RPC2" && req.path != "/RPC2/" {
            ("404 Not Found", String::new())
        } else if req.method != "POST" {
            ("405 Method Not Allowed", String::new())
        } else {
            match fault {
                Fault::Drop => return Ok(()),
                Fault::Http500 => ("500 Internal Server Error", String::new()),
                Fault::Internal => (
                    "200 OK",
                    super::xmlrpc::failure(
                        "[simulator] Internal error injected by the fault configuration",
                        super::state::code::INTERNAL,
                        -1,
                    ),
                ),
                Fault::None | Fault::Truncate => {
                    let engine2 = engine.clone();
                    let body = req.body;
                    let out = if body.len() > 256 * 1024 {
                        tokio::task::spawn_blocking(move || engine2.handle(&body))
                            .await
                            .map_err(std::io::Error::other)?
                    } else {
                        engine.handle(&body)
                    };
                    ("200 OK", out)
                }
            }
        };
        // oned's Abyss: Content-type, Content-length, Connection, Date, Server, in that
        // order and spelling (recorded-sweep/http.tsv)
        let mut head = format!("HTTP/1.1 {status}\r\n");
        if !body.is_empty() {
            head.push_str("Content-type: text/xml; charset=utf-8\r\n");
        }
        head.push_str(&format!("Content-length: {}\r\n", body.len()));
        if status.starts_with("405") {
            head.push_str("Allow: POST\r\n");
        }
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n"
        } else {
            "Connection: close\r\n"
        });
        head.push_str(&format!(
            "Date: {}\r\nServer: Xmlrpc-c_Abyss/1.33.14\r\n\r\n",
            http_date(std::time::SystemTime::now())
        ));
        if fault == Fault::Truncate && status.starts_with("200") {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body.as_bytes()[..body.len() / 2]).await?;
            stream.flush().await?;
            return Ok(());
        }
        let mut out = head.into_bytes();
        out.extend_from_slice(body.as_bytes());
        stream.write_all(&out).await?;
        if !keep_alive {
            stream.flush().await?;
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

/// An RFC 7231 date as Abyss writes it (`Wed, 02 Dec 2026 00:01:51 UTC`, recorded).
fn http_date(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, sec) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mn = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(mo - 1) as usize];
    format!("{wd}, {d:02} {mn} {y} {h:02}:{m:02}:{sec:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_like_abyss() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_169_711);
        assert_eq!(http_date(t), "Wed, 02 Dec 2026 00:01:51 UTC");
        assert_eq!(
            http_date(std::time::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 UTC"
        );
    }
}
